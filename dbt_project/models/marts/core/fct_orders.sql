-- One row per order, from the ERP (store, TV home shopping, B2B) and the online shop.
-- Net amount never double-counts: a cancelled order nets 0; an ERP return is its own order
-- with a negative amount; a shop order returned as a whole nets 0 on its own row.
with erp_orders as (
    select * from {{ ref('stg_erp__orders') }}
),

shop_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

crosswalk as (
    select * from {{ ref('int_identity_crosswalk') }}
),

orders as (
    select
        'erp:' || erp_order_no as order_key,
        'erp' as source,
        erp_order_no as source_order_id,
        'erp_customer' as customer_source,
        erp_customer_no as customer_source_key,
        order_date,
        cast(order_date as timestamp) as ordered_at,
        channel_code,
        order_status,
        order_amount as gross_amount
    from erp_orders

    union all

    select
        'shop:' || cast(shop_order_id as {{ dbt.type_string() }}) as order_key,
        'shop' as source,
        cast(shop_order_id as {{ dbt.type_string() }}) as source_order_id,
        'shop_member' as customer_source,
        cast(shop_member_id as {{ dbt.type_string() }}) as customer_source_key,
        cast(ordered_at as date) as order_date,
        ordered_at,
        'online_shop' as channel_code,
        order_status,
        order_amount as gross_amount
    from shop_orders
)

select
    orders.order_key,
    orders.source,
    orders.source_order_id,
    crosswalk.customer_id,
    orders.customer_source_key,
    orders.order_date,
    orders.ordered_at,
    orders.channel_code,
    orders.order_status,
    orders.gross_amount,
    case
        when orders.order_status = 'cancelled' then 0
        when orders.order_status = 'returned' and orders.source = 'shop' then 0
        else orders.gross_amount
    end as net_amount,
    orders.order_status = 'returned' as is_return,
    orders.order_status = 'completed' as is_purchase
from orders
left join crosswalk
    on crosswalk.source = orders.customer_source
    and crosswalk.source_key = orders.customer_source_key
