-- One row per ESP event id. Webhooks deliver some events twice (same event_id, same or a later
-- file): the first delivery is kept. Late events keep their own occurred_at.
with source as (
    select * from {{ source('esp', 'esp_events') }}
),

first_delivery as (
    {{ deduplicate('source', ['trim(event_id)'], order_by='_loaded_at, _source_file, _source_line') }}
)

select
    trim(event_id) as event_id,
    trim(campaign_id) as campaign_id,
    trim(recipient) as recipient_raw,
    case when trim(recipient) like '%@%' then lower(trim(recipient)) end as recipient_email,
    case when trim(recipient) not like '%@%' then {{ phone_national('recipient') }} end
        as recipient_phone_digits,
    lower(trim(event_type)) as event_type,
    {{ parse_timestamp('occurred_at') }} as occurred_at,
    {{ clean_text('url') }} as clicked_url,
    {{ clean_text('reason') }} as reason,
    _source_file,
    _batch_id,
    _loaded_at
from first_delivery
