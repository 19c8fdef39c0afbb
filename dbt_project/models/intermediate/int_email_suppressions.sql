with esp_events as (
    select * from {{ ref('stg_esp__events') }}
),

email_outcomes as (
    select
        recipient_email as email,
        min(case when event_type = 'complaint' then occurred_at end) as first_complaint_at,
        min(case when event_type = 'hard_bounce' then occurred_at end) as first_hard_bounce_at,
        max(case when event_type = 'hard_bounce' then occurred_at end) as last_hard_bounce_at,
        max(case when event_type in ('delivered', 'open', 'click') then occurred_at end)
            as last_reached_at
    from esp_events
    where recipient_email is not null
    group by recipient_email
),

suppressed_emails as (
    select
        email,
        case when first_complaint_at is not null then 'complaint' else 'hard_bounce' end
            as suppressed_reason,
        coalesce(first_complaint_at, first_hard_bounce_at) as suppressed_at
    from email_outcomes
    where first_complaint_at is not null
        or (
            last_hard_bounce_at is not null
            and (last_reached_at is null or last_reached_at < last_hard_bounce_at)
        )
)

select
    email,
    suppressed_reason,
    suppressed_at
from suppressed_emails
