with activity as (
    select max(order_date) as activity_date from {{ ref('stg_erp__orders') }}
    where order_date <= current_date + 1
    union all
    select max(cast(ordered_at as date)) from {{ ref('stg_shop__orders') }}
    where cast(ordered_at as date) <= current_date + 1
    union all
    select max(cast(completed_at as date)) from {{ ref('stg_shop__claims') }}
    where cast(completed_at as date) <= current_date + 1
)

select
    {% if var('rfm_as_of_date', none) -%}
    cast('{{ var("rfm_as_of_date") }}' as date)
    {%- else -%}
    coalesce(max(activity_date), current_date)
    {%- endif %} as as_of_date,
    max(activity_date) as last_activity_date,
    {{ 'true' if var('rfm_as_of_date', none) else 'false' }} as is_set_by_var
from activity
