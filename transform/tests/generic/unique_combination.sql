{#
  The columns together identify a row: no two rows share the same values (dbt has no built-in
  multi-column unique test).
#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_with_these_values
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
