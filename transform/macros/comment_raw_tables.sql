{#
  COMMENT ON TABLE / COLUMN for the raw tables target-postgres wrote, from the descriptions in
  sources.yml (generated from the tap's catalog). Tables not loaded yet are skipped; so are
  columns a table lacks (dbt-postgres's alter_column_comment comments only existing ones).
#}
{% macro comment_raw_tables() %}
  {% if execute %}
    {% for source in graph.sources.values() if source.source_name == 'callrail' %}
      {% set relation = adapter.get_relation(database=source.database, schema=source.schema, identifier=source.identifier) %}
      {% if relation is not none %}
        {% do run_query(alter_relation_comment(relation, source.description)) %}
        {% do run_query(alter_column_comment(relation, source.columns)) %}
      {% endif %}
    {% endfor %}
  {% endif %}
{% endmacro %}
