-- One row: the date every customer score is computed as of (RFM, CLV inputs, LTV, value grid,
-- churn, anniversaries). var('rfm_as_of_date') when set; otherwise the last day of loaded
-- activity — the latest order, return or claim date of either source — so data that ends in
-- the past is scored as of its own end, not as of today. A date after tomorrow is a typo
-- (2099 for 2019), not activity: it is passed over here (and blocked by the quality checks).
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
