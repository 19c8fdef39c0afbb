{{ config(meta={'dagster': {'ref': {'name': 'fct_order_lines'}}}) }}
-- Every staged ERP slip line, shop order item and item of a completed shop return claim is
-- either in fct_order_lines or held in int_order_line_exceptions — exactly once.
with staged as (
    select 'erp:' || erp_order_no || ':' || cast(line_no as {{ dbt.type_string() }}) as line_key
    from {{ ref('stg_erp__order_lines') }}
    union all
    select
        'shop:' || cast(shop_order_id as {{ dbt.type_string() }}) || ':'
        || cast(shop_order_item_id as {{ dbt.type_string() }})
    from {{ ref('stg_shop__order_items') }}
    union all
    select
        'shop-claim:' || cast(claims.shop_claim_id as {{ dbt.type_string() }}) || ':'
        || cast(items.shop_claim_item_id as {{ dbt.type_string() }})
    from {{ ref('stg_shop__claim_items') }} as items
    inner join {{ ref('stg_shop__claims') }} as claims on claims.shop_claim_id = items.shop_claim_id
    where claims.claim_type = 'return' and claims.is_completed
),

accounted as (
    select line_key from {{ ref('fct_order_lines') }}
    union all
    select line_key from {{ ref('int_order_line_exceptions') }}
),

counted as (
    select line_key, count(*) as copies from accounted
    group by line_key
)

select staged.line_key, counted.copies
from staged
left join counted on counted.line_key = staged.line_key
where coalesce(counted.copies, 0) <> 1
