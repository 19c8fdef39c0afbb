{%- set funnel = [('delivered', 'is_delivered'), ('spam_blocked', 'is_spam_blocked'),
                  ('bad_address', 'is_hard_bounce'), ('failed', 'is_failed'),
                  ('soft_bounced', 'is_soft_bounce'), ('opened', 'is_open'),
                  ('clicked', 'is_click'), ('unsubscribed', 'is_unsubscribe'),
                  ('complained', 'is_complaint')] -%}
-- One row per campaign send (each wave is its own campaign): seed 000's funnel as counts and %
-- of sent, unique open rate, click-to-open, and orders attributed to the campaign.
-- Attribution rule: a completed order of the customer within var('attribution_days') (7)
-- after the customer's first open or click of a send belongs to the send with the latest such
-- touch before the order — each order is attributed to at most one send.
with sends as (
    select * from {{ ref('fct_campaign_sends') }}
),

campaigns as (
    select * from {{ ref('dim_campaign') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
    where is_purchase and customer_id is not null
),

touches as (
    select
        campaign_id,
        customer_id,
        case
            when first_click_at is not null and (first_open_at is null or first_click_at < first_open_at)
                then first_click_at
            else first_open_at
        end as touched_at
    from sends
    where first_open_at is not null or first_click_at is not null
),

attribution_candidates as (
    select
        orders.order_key,
        orders.net_amount,
        touches.campaign_id,
        row_number() over (
            partition by orders.order_key
            order by touches.touched_at desc, touches.campaign_id
        ) as touch_rank
    from orders
    inner join touches
        on touches.customer_id = orders.customer_id
        and orders.ordered_at > touches.touched_at
        and orders.ordered_at <= touches.touched_at + interval '{{ var("attribution_days") }} days'
),

attributed as (
    select
        campaign_id,
        count(*) as attributed_orders,
        sum(net_amount) as attributed_revenue
    from attribution_candidates
    where touch_rank = 1
    group by campaign_id
),

funnel as (
    select
        campaign_id,
        sum(case when sent_at is not null then 1 else 0 end) as sent,
        {%- for name, flag in funnel %}
        sum(case when {{ flag }} then 1 else 0 end) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from sends
    group by campaign_id
)

select
    campaigns.campaign_id,
    campaigns.first_wave_campaign_id,
    campaigns.wave,
    campaigns.campaign_name,
    campaigns.channel_code,
    campaigns.scheduled_date,
    funnel.sent,
    {%- for name, flag in funnel %}
    funnel.{{ name }},
    {{ percent('funnel.' ~ name, 'funnel.sent') }} as {{ name }}_pct_of_sent,
    {%- endfor %}
    {{ percent('funnel.opened', 'funnel.delivered') }} as unique_open_rate_pct,
    {{ percent('funnel.clicked', 'funnel.opened') }} as click_to_open_pct,
    coalesce(attributed.attributed_orders, 0) as attributed_orders,
    coalesce(attributed.attributed_revenue, 0) as attributed_revenue,
    cast(round(cast(coalesce(attributed.attributed_revenue, 0) as numeric)
        / nullif(funnel.sent, 0), 2) as {{ type_double() }}) as revenue_per_send
from campaigns
inner join funnel on funnel.campaign_id = campaigns.campaign_id
left join attributed on attributed.campaign_id = campaigns.campaign_id
