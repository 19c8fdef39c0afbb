-- One row per calendar day from the first order's year to the end of next year.
{%- set weekdays_ko = ['월', '화', '수', '목', '금', '토', '일'] %}
with days as (
    {{ dbt.date_spine('day', "cast('" ~ var('calendar_start', '2020-01-01') ~ "' as date)",
                      "cast('" ~ var('calendar_end', '2028-01-01') ~ "' as date)") }}
)

select
    cast(date_day as date) as date_day,
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
