{%- set weekdays_ko = ['월', '화', '수', '목', '금', '토', '일'] %}
with dated as (
    select min(order_date) as first_day, max(order_date) as last_day
    from {{ ref('stg_erp__orders') }}
    union all
    select min(cast(ordered_at as date)) as first_day, max(cast(ordered_at as date)) as last_day
    from {{ ref('stg_shop__orders') }}
    union all
    select min(cast(completed_at as date)) as first_day, max(cast(completed_at as date)) as last_day
    from {{ ref('stg_shop__claims') }}
    union all
    select min(cast(started_at as date)) as first_day, max(cast(started_at as date)) as last_day
    from {{ ref('stg_callcenter__calls') }}
    union all
    select min(cast(received_at as date)) as first_day, max(cast(resolved_at as date)) as last_day
    from {{ ref('stg_callcenter__tickets') }}
    union all
    select min(cast(occurred_at as date)) as first_day, max(cast(occurred_at as date)) as last_day
    from {{ ref('stg_esp__events') }}
    union all
    select min(cast(scheduled_at as date)) as first_day, max(cast(scheduled_at as date)) as last_day
    from {{ ref('stg_esp__campaigns') }}
    union all
    select as_of_date as first_day, as_of_date as last_day from {{ ref('int_scoring_date') }}
),

data_span as (
    -- one row, whatever the settings: the bounds below read it once
    select min(first_day) as first_day, max(last_day) as last_day
    from dated
),

bounds as (
    select
        {% if var('calendar_start', none) -%}
        cast('{{ var("calendar_start") }}' as date)
        {%- else -%}
        cast({{ dbt.date_trunc('year', 'coalesce(first_day, current_date)') }} as date)
        {%- endif %} as first_day,
        {% if var('calendar_end', none) -%}
        cast('{{ var("calendar_end") }}' as date)
        {%- else -%}
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('year', 2, dbt.date_trunc('year',
            'coalesce(last_day, current_date)'))) }} as date)
        {%- endif %} as last_day
    from data_span
),

days as (
    {{ days_between('(select first_day from bounds)', '(select last_day from bounds)') }}
)

select
    date_day,
    cast(extract(year from date_day) as integer) as calendar_year,
    cast(extract(quarter from date_day) as integer) as calendar_quarter,
    cast(extract(month from date_day) as integer) as calendar_month,
    cast(extract(day from date_day) as integer) as day_of_month,
    cast(extract(isodow from date_day) as integer) as iso_day_of_week,
    case cast(extract(isodow from date_day) as integer)
        {%- for name in weekdays_ko %}
        when {{ loop.index }} then '{{ name }}'
        {%- endfor %}
    end as day_name_ko,
    cast(extract(isodow from date_day) as integer) in (6, 7) as is_weekend,
    cast(extract(year from date_day) as integer) * 100 + cast(extract(month from date_day) as integer)
        as year_month
from days
