with campaigns as (
    select * from {{ ref('stg_esp__campaigns') }}
)

select
    campaign_id,
    campaign_name,
    campaign_channel as channel_code,
    subject,
    sender,
    wave,
    first_wave_campaign_id,
    scheduled_at,
    cast(scheduled_at as date) as scheduled_date
from campaigns
