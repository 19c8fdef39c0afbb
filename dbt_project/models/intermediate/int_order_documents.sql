with erp_orders as (
    select * from {{ ref('stg_erp__orders') }}
),

shop_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

shop_claims as (
    select * from {{ ref('stg_shop__claims') }}
),

shop_customers as (
    select
        shop_order_id,
        case when is_guest_order then 'shop_guest_order' else 'shop_member' end
            as customer_source,
        cast(coalesce(shop_member_id, shop_order_id) as {{ dbt.type_string() }})
            as customer_source_key
    from shop_orders
),

completed_returns as (
    select *
    from shop_claims
    where claim_type = 'return' and is_completed
),

returned_without_claim as (
    select shop_orders.*
    from shop_orders
    where shop_orders.order_status = 'returned'
        and not exists (
            select 1 from completed_returns
            where completed_returns.shop_order_id = shop_orders.shop_order_id
        )
),

documents as (
    select
        'erp:' || erp_order_no as order_key,
        'erp' as source,
        erp_order_no as source_order_id,
        document_type,
        order_status,
        is_paid,
        'erp_customer' as customer_source,
        erp_customer_no as customer_source_key,
        order_date,
        cast(order_date as timestamp) as ordered_at,
        channel_code,
        case when original_erp_order_no is not null then 'erp:' || original_erp_order_no end
            as original_order_key,
        order_amount as document_amount
    from erp_orders

    union all

    select
        'shop:' || cast(shop_orders.shop_order_id as {{ dbt.type_string() }}) as order_key,
        'shop' as source,
        cast(shop_orders.shop_order_id as {{ dbt.type_string() }}) as source_order_id,
        shop_orders.document_type,
        shop_orders.order_status,
        shop_orders.is_paid,
        shop_customers.customer_source,
        shop_customers.customer_source_key,
        cast(shop_orders.ordered_at as date) as order_date,
        shop_orders.ordered_at,
        'online_shop' as channel_code,
        case when shop_orders.original_shop_order_id is not null
                then 'shop:' || cast(shop_orders.original_shop_order_id as {{ dbt.type_string() }})
        end as original_order_key,
        shop_orders.order_amount as document_amount
    from shop_orders
    inner join shop_customers on shop_customers.shop_order_id = shop_orders.shop_order_id

    union all

    select
        'shop-claim:' || cast(completed_returns.shop_claim_id as {{ dbt.type_string() }})
            as order_key,
        'shop' as source,
        cast(completed_returns.shop_claim_id as {{ dbt.type_string() }}) as source_order_id,
        'credit_note' as document_type,
        'returned' as order_status,
        true as is_paid,
        shop_customers.customer_source,
        shop_customers.customer_source_key,
        cast(completed_returns.completed_at as date) as order_date,
        completed_returns.completed_at as ordered_at,
        'online_shop' as channel_code,
        'shop:' || cast(completed_returns.shop_order_id as {{ dbt.type_string() }})
            as original_order_key,
        -completed_returns.refund_amount as document_amount
    from completed_returns
    left join shop_customers on shop_customers.shop_order_id = completed_returns.shop_order_id

    union all

    select
        'shop-return:' || cast(shop_order_id as {{ dbt.type_string() }}) as order_key,
        'shop' as source,
        cast(shop_order_id as {{ dbt.type_string() }}) as source_order_id,
        'credit_note' as document_type,
        'returned' as order_status,
        true as is_paid,
        case when is_guest_order then 'shop_guest_order' else 'shop_member' end
            as customer_source,
        cast(coalesce(shop_member_id, shop_order_id) as {{ dbt.type_string() }})
            as customer_source_key,
        cast(updated_at as date) as order_date,
        updated_at as ordered_at,
        'online_shop' as channel_code,
        'shop:' || cast(shop_order_id as {{ dbt.type_string() }}) as original_order_key,
        cast(null as {{ amount_type() }}) as document_amount
    from returned_without_claim
)

select
    order_key,
    source,
    source_order_id,
    document_type,
    order_status,
    is_paid,
    customer_source,
    customer_source_key,
    order_date,
    ordered_at,
    channel_code,
    original_order_key,
    document_amount
from documents
