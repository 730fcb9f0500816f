{#
  The live rows of a raw table: rows target-postgres marked deleted (_sdc_deleted_at) left out,
  one row per key (the newest load wins should a table ever hold a key twice).
#}
{% macro callrail_rows(table, key='id') %}
    select distinct on ({{ key }}) *
    from {{ source('callrail', table) }}
    where _sdc_deleted_at is null
    order by {{ key }}, _sdc_batched_at desc nulls last
{% endmacro %}

{# A raw timestamp (UTC without time zone) as timestamptz. #}
{% macro utc(column) %}({{ column }} at time zone 'UTC'){% endmacro %}
