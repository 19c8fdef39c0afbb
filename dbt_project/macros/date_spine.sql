{#- Every day from `start_date` to `end_date` (SQL date expressions, may be subqueries) as
    column date_day. dbt's date_spine needs its bounds at compile time; these are known only
    when the data is. -#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'gogaek')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
    select cast(day_value as date) as date_day
    from generate_series(
        cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp), interval '1 day'
    ) as series (day_value)
{%- endmacro %}

{% macro duckdb__days_between(start_date, end_date) -%}
    select cast(unnest(generate_series(
        cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day
    )) as date) as date_day
{%- endmacro %}
