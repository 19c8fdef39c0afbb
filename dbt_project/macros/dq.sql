{#- The quality history table written by the Great Expectations checks. The one definition:
    quality/history.py renders this macro to create it before it appends; on-run-start creates
    it too, so a fresh warehouse — DuckDB or a PostgreSQL copy of the raw layer — builds before
    any validation has run. -#}
{% macro ensure_dq_tables() -%}
    create schema if not exists dq;
    create table if not exists dq.validation_results (
        run_id varchar,
        validated_at timestamp,
        suite varchar,
        expectation varchar,
        expectation_type varchar,
        table_name varchar,
        column_name varchar,
        severity varchar,
        mostly {{ type_double() }},
        element_count bigint,
        unexpected_count bigint,
        unexpected_share {{ type_double() }},
        observed_value {{ type_double() }},
        success boolean,
        outcome varchar,
        engine varchar
    )
{%- endmacro %}
