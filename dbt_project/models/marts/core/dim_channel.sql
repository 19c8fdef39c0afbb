with channels as (
    select * from {{ ref('channels') }}
)

select
    channel_code,
    channel_name,
    channel_name_ko,
    channel_type,
    is_sales_channel,
    is_contact_channel
from channels
