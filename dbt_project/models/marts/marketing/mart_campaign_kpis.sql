{%- set funnel = campaign_funnel() -%}
with sends as (
    select * from {{ ref('fct_campaign_sends') }}
),

campaigns as (
    select * from {{ ref('dim_campaign') }}
),

purchases as (
    select * from {{ ref('fct_purchases') }}
    where is_purchase
),

{{ campaign_attribution_ctes('sends', 'purchases') }},

attributed as (
    select
        campaign_id,
        count(*) as attributed_purchases,
        sum(merchandise_value) as attributed_revenue
    from attributed_purchases
    group by campaign_id
),

funnel as (
    select
        campaign_id,
        sum(case when sent_at is not null then 1 else 0 end) as sent,
    {%- for name, flag in funnel %}
        sum(case when {{ flag }} then 1 else 0 end) as {{ name }}{{ "," if not loop.last }}  -- noqa: LT02
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
    coalesce(attributed.attributed_purchases, 0) as attributed_purchases,
    {{ money('coalesce(attributed.attributed_revenue, 0)') }} as attributed_revenue,
    cast(round(
        cast(coalesce(attributed.attributed_revenue, 0) as numeric)
        / nullif(funnel.sent, 0), 2
    ) as {{ type_double() }}) as revenue_per_send
from campaigns
inner join funnel on funnel.campaign_id = campaigns.campaign_id
left join attributed on attributed.campaign_id = campaigns.campaign_id
