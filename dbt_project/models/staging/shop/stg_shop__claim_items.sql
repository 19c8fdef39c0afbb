with source as (
    select * from {{ source('shop', 'shop_claim_items') }}
),

latest as (
    {{ deduplicate('source', ['trim(claim_item_id)'], order_by=shop_newest_first()) }}
)

select
    {{ parse_int('claim_item_id') }} as shop_claim_item_id,
    {{ parse_int('claim_id') }} as shop_claim_id,
    {{ parse_int('order_item_id') }} as shop_order_item_id,
    {{ parse_int('quantity') }} as quantity,
    {{ parse_timestamp('updated_at') }} as updated_at,
    _batch_id,
    _loaded_at
from latest
where {{ not_deleted('shop', 'claim_items', ['claim_item_id']) }}
