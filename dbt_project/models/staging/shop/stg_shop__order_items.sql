with source as (
    select * from {{ source('shop', 'shop_order_items') }}
),

latest as (
    {{ deduplicate('source', ['trim(order_item_id)'], order_by=shop_newest_first()) }}
)

select
    {{ parse_int('order_item_id') }} as shop_order_item_id,
    {{ parse_int('order_id') }} as shop_order_id,
    trim(product_code) as product_code,
    {{ parse_int('quantity') }} as quantity,
    {{ parse_amount('unit_price') }} as unit_price,
    {{ parse_int('quantity') }} * {{ parse_amount('unit_price') }} as line_amount,
    {{ parse_timestamp('updated_at') }} as updated_at,
    _batch_id,
    _loaded_at
from latest
where {{ not_deleted('shop', 'order_items', ['order_item_id']) }}
