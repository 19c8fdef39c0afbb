{%- set outcomes = ['delivered', 'soft_bounce', 'hard_bounce', 'spam_blocked', 'failed',
                    'open', 'click', 'unsubscribe', 'complaint'] -%}
with events as (
    select * from {{ ref('fct_email_events') }}
),

campaigns as (
    select * from {{ ref('dim_campaign') }}
)

select
    events.campaign_id,
    events.customer_id,
    campaigns.first_wave_campaign_id,
    campaigns.wave,
    min(case when events.event_type = 'sent' then events.occurred_at end) as sent_at,
    {%- for outcome in outcomes %}
    max(case when events.event_type = '{{ outcome }}' then 1 else 0 end) = 1 as is_{{ outcome }},
    min(case when events.event_type = '{{ outcome }}' then events.occurred_at end)
        as first_{{ outcome }}_at,
    {%- endfor %}
    count(*) as event_count
from events
left join campaigns on campaigns.campaign_id = events.campaign_id
where events.customer_id is not null
group by events.campaign_id, events.customer_id, campaigns.first_wave_campaign_id, campaigns.wave
