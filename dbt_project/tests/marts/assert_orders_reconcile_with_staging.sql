{{ config(meta={'dagster': {'ref': {'name': 'fct_orders'}}}) }}
-- Every staged ERP slip and shop order is in fct_orders exactly once, and so is every
-- completed shop return claim (a return document of its own).
with staged as (
    select 'erp:' || erp_order_no as order_key from {{ ref('stg_erp__orders') }}
    union all
    select 'shop:' || cast(shop_order_id as {{ dbt.type_string() }})
    from {{ ref('stg_shop__orders') }}
    union all
    select 'shop-claim:' || cast(shop_claim_id as {{ dbt.type_string() }})
    from {{ ref('stg_shop__claims') }}
    where claim_type = 'return' and is_completed
),

fact as (
    select order_key, count(*) as copies
    from {{ ref('fct_orders') }}
    group by order_key
)

select staged.order_key, fact.copies
from staged
left join fact on fact.order_key = staged.order_key
where coalesce(fact.copies, 0) <> 1
