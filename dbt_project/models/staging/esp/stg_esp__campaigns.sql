with source as (
    select * from {{ source('esp', 'esp_campaigns') }}
),

latest as (
    {{ deduplicate('source', ['trim(campaign_id)']) }}
)

select
    trim(campaign_id) as campaign_id,
    {{ clean_text('name') }} as campaign_name,
    lower(trim(channel)) as campaign_channel,
    {{ clean_text('subject') }} as subject,
    {{ clean_text('sender') }} as sender,
    coalesce({{ parse_int('wave') }}, 1) as wave,
    coalesce({{ clean_text('parent_campaign_id') }}, trim(campaign_id)) as first_wave_campaign_id,
    {{ parse_timestamp('scheduled_at') }} as scheduled_at,
    _batch_id,
    _loaded_at
from latest
