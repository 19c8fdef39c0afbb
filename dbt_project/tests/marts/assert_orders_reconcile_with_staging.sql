-- Row-count and amount reconciliation staging → fact for orders, per source.
with staged as (
    select 'erp' as source, count(*) as order_count, sum(order_amount) as gross_amount
    from {{ ref('stg_erp__orders') }}
    union all
    select 'shop' as source, count(*) as order_count, sum(order_amount) as gross_amount
    from {{ ref('stg_shop__orders') }}
),

fact as (
    select source, count(*) as order_count, sum(gross_amount) as gross_amount
    from {{ ref('fct_orders') }}
    group by source
)

select staged.source, staged.order_count, fact.order_count as fact_order_count
from staged
left join fact on fact.source = staged.source
where staged.order_count <> coalesce(fact.order_count, 0)
    or coalesce(staged.gross_amount, 0) <> coalesce(fact.gross_amount, 0)
