with documents as (
    select * from {{ ref('int_order_documents') }}
),

erp_lines as (
    select * from {{ ref('stg_erp__order_lines') }}
),

shop_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

shop_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

shop_claims as (
    select * from {{ ref('stg_shop__claims') }}
),

shop_claim_items as (
    select * from {{ ref('stg_shop__claim_items') }}
),

products as (
    select * from {{ ref('int_product_line_types') }}
),

completed_claim_units as (
    select
        shop_claims.claim_type,
        shop_claim_items.shop_order_item_id,
        sum(shop_claim_items.quantity) as units
    from shop_claim_items
    inner join shop_claims on shop_claims.shop_claim_id = shop_claim_items.shop_claim_id
    where shop_claims.is_completed
    group by shop_claims.claim_type, shop_claim_items.shop_order_item_id
),

shop_item_units as (
    select
        shop_items.*,
        'shop:' || cast(shop_items.shop_order_id as {{ dbt.type_string() }}) as order_key,
        case
            when shop_items.quantity <= 0 then 0
            when shop_orders.order_status = 'cancelled' then shop_items.quantity
            else least(shop_items.quantity, coalesce(cancels.units, 0))
        end as cancelled_quantity
    from shop_items
    inner join shop_orders on shop_orders.shop_order_id = shop_items.shop_order_id
    left join completed_claim_units as cancels
        on cancels.shop_order_item_id = shop_items.shop_order_item_id
            and cancels.claim_type = 'cancel'
),

-- An order with every unit cancelled is cancelled whole: its shipping fee and discount too.
shop_whole_cancellations as (
    select order_key
    from shop_item_units
    group by order_key
    having sum(quantity - cancelled_quantity) = 0 and sum(quantity) > 0
),

lines as (
    select
        'erp:' || erp_lines.erp_order_no || ':' || cast(erp_lines.line_no as {{ dbt.type_string() }})
            as line_key,
        'erp:' || erp_lines.erp_order_no as order_key,
        erp_lines.line_no as line_number,
        erp_lines.product_code,
        erp_lines.quantity,
        erp_lines.unit_price,
        erp_lines.line_amount as amount,
        case when documents.order_status = 'cancelled' then erp_lines.quantity else 0 end
            as cancelled_quantity,
        case when erp_lines.original_line_no is not null and documents.original_order_key is not null
                then documents.original_order_key || ':'
                    || cast(erp_lines.original_line_no as {{ dbt.type_string() }})
        end as original_line_key,
        cast(null as {{ dbt.type_string() }}) as fixed_line_type
    from erp_lines
    inner join documents on documents.order_key = 'erp:' || erp_lines.erp_order_no

    union all

    select
        order_key || ':' || cast(shop_order_item_id as {{ dbt.type_string() }}) as line_key,
        order_key,
        shop_order_item_id as line_number,
        product_code,
        quantity,
        unit_price,
        line_amount as amount,
        cancelled_quantity,
        cast(null as {{ dbt.type_string() }}) as original_line_key,
        cast(null as {{ dbt.type_string() }}) as fixed_line_type
    from shop_item_units

    union all

    {%- for fee, line_type, sign in [('shipping_fee', 'shipping', 1), ('discount_amount', 'discount', -1)] %}
    select
        'shop:' || cast(shop_orders.shop_order_id as {{ dbt.type_string() }}) || ':{{ line_type }}'
            as line_key,
        'shop:' || cast(shop_orders.shop_order_id as {{ dbt.type_string() }}) as order_key,
        cast(null as bigint) as line_number,
        cast(null as {{ dbt.type_string() }}) as product_code,
        1 as quantity,
        shop_orders.{{ fee }} * {{ sign }} as unit_price,
        shop_orders.{{ fee }} * {{ sign }} as amount,
        case when shop_orders.order_status = 'cancelled' or cancelled.order_key is not null
                then 1
            else 0
        end as cancelled_quantity,
        cast(null as {{ dbt.type_string() }}) as original_line_key,
        '{{ line_type }}' as fixed_line_type
    from shop_orders
    left join shop_whole_cancellations as cancelled
        on cancelled.order_key = 'shop:' || cast(shop_orders.shop_order_id as {{ dbt.type_string() }})
    where shop_orders.{{ fee }} <> 0

    union all
    {%- endfor %}

    select
        'shop-claim:' || cast(shop_claims.shop_claim_id as {{ dbt.type_string() }}) || ':'
        || cast(shop_claim_items.shop_claim_item_id as {{ dbt.type_string() }}) as line_key,
        'shop-claim:' || cast(shop_claims.shop_claim_id as {{ dbt.type_string() }}) as order_key,
        shop_claim_items.shop_claim_item_id as line_number,
        shop_items.product_code,
        -shop_claim_items.quantity as quantity,
        shop_items.unit_price,
        -shop_claim_items.quantity * shop_items.unit_price as amount,
        0 as cancelled_quantity,
        'shop:' || cast(shop_claims.shop_order_id as {{ dbt.type_string() }}) || ':'
        || cast(shop_claim_items.shop_order_item_id as {{ dbt.type_string() }})
            as original_line_key,
        cast(null as {{ dbt.type_string() }}) as fixed_line_type
    from shop_claim_items
    inner join shop_claims on shop_claims.shop_claim_id = shop_claim_items.shop_claim_id
    left join shop_items on shop_items.shop_order_item_id = shop_claim_items.shop_order_item_id
    where shop_claims.claim_type = 'return' and shop_claims.is_completed

    union all

    select
        'shop-return:' || cast(shop_item_units.shop_order_id as {{ dbt.type_string() }}) || ':'
        || cast(shop_item_units.shop_order_item_id as {{ dbt.type_string() }}) as line_key,
        'shop-return:' || cast(shop_item_units.shop_order_id as {{ dbt.type_string() }})
            as order_key,
        shop_item_units.shop_order_item_id as line_number,
        shop_item_units.product_code,
        -(shop_item_units.quantity - shop_item_units.cancelled_quantity) as quantity,
        shop_item_units.unit_price,
        -(shop_item_units.quantity - shop_item_units.cancelled_quantity)
        * shop_item_units.unit_price as amount,
        0 as cancelled_quantity,
        shop_item_units.order_key || ':'
        || cast(shop_item_units.shop_order_item_id as {{ dbt.type_string() }})
            as original_line_key,
        cast(null as {{ dbt.type_string() }}) as fixed_line_type
    from shop_item_units
    inner join documents
        on documents.order_key = 'shop-return:' || cast(shop_item_units.shop_order_id as {{ dbt.type_string() }})
    where shop_item_units.quantity > shop_item_units.cancelled_quantity
)

select
    lines.line_key,
    lines.order_key,
    cast(lines.line_number as bigint) as line_number,
    documents.source,
    documents.document_type,
    documents.order_status,
    documents.is_paid,
    documents.customer_source,
    documents.customer_source_key,
    documents.order_date,
    documents.ordered_at,
    documents.channel_code,
    lines.product_code,
    coalesce(lines.fixed_line_type, products.line_type, 'merchandise') as line_type,
    lines.quantity,
    lines.unit_price,
    lines.amount,
    lines.cancelled_quantity,
    documents.document_type = 'credit_note' or lines.quantity < 0 as is_credit,
    documents.original_order_key,
    lines.original_line_key
from lines
inner join documents on documents.order_key = lines.order_key
left join products on products.product_code = lines.product_code
