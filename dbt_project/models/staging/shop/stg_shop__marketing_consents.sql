with source as (
    select * from {{ source('shop', 'shop_marketing_consents') }}
),

latest as (
    {{ deduplicate('source', ['trim(member_id)', 'lower(trim(channel))'], order_by=shop_newest_first()) }}
)

select
    {{ parse_int('member_id') }} as shop_member_id,
    lower(trim(channel)) as consent_channel,
    {{ parse_int('consented') }} = 1 as is_consented,
    {{ parse_timestamp('updated_at') }} as decided_at,
    _batch_id,
    _loaded_at
from latest
where {{ not_deleted('shop', 'marketing_consents', ['member_id', 'channel']) }}
