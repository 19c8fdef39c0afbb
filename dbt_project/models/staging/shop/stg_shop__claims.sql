with source as (
    select * from {{ source('shop', 'shop_claims') }}
),

latest as (
    {{ deduplicate('source', ['trim(claim_id)'], order_by=shop_newest_first()) }}
)

select
    {{ parse_int('claim_id') }} as shop_claim_id,
    {{ parse_int('order_id') }} as shop_order_id,
    lower(trim(claim_type)) as claim_type,
    lower(trim(claim_status)) as claim_status,
    lower(trim(claim_status)) = 'completed' as is_completed,
    {{ parse_timestamp('requested_at') }} as requested_at,
    {{ parse_timestamp('completed_at') }} as completed_at,
    {{ parse_amount('refund_amount') }} as refund_amount,
    {{ parse_timestamp('updated_at') }} as updated_at,
    _batch_id,
    _loaded_at
from latest
where {{ not_deleted('shop', 'claims', ['claim_id']) }}
