{%- set funnel = campaign_funnel() -%}
with sends as (
    select * from {{ ref('fct_campaign_sends') }}
),

campaigns as (
    select * from {{ ref('dim_campaign') }}
),

purchases as (
    select * from {{ ref('fct_purchases') }}
),

segments as (
    select * from {{ ref('rfm_segments') }}
),

send_eve_dates as (
    select distinct cast(campaigns.scheduled_date - 1 as date) as as_of_date
    from campaigns
    inner join sends on sends.campaign_id = campaigns.campaign_id
),

{{ rfm_scoring_ctes('purchases', 'send_eve_dates') }},

{{ campaign_attribution_ctes('sends', 'purchases') }},

attributed_per_send as (
    select
        campaign_id,
        customer_id,
        count(*) as attributed_purchases,
        sum(merchandise_value) as attributed_revenue
    from attributed_purchases
    group by campaign_id, customer_id
),

sends_with_segment as (
    select
        sends.*,
        cast(campaigns.scheduled_date - 1 as date) as segment_as_of_date,
        case
            when sends.customer_id is null then 'unknown'
            else coalesce(rfm_segmented.segment_code, 'no_purchase')
        end as segment_code,
        coalesce(attributed_per_send.attributed_purchases, 0) as attributed_purchases,
        coalesce(attributed_per_send.attributed_revenue, 0) as attributed_revenue
    from sends
    inner join campaigns on campaigns.campaign_id = sends.campaign_id
    left join rfm_segmented
        on rfm_segmented.customer_id = sends.customer_id
            and rfm_segmented.as_of_date = cast(campaigns.scheduled_date - 1 as date)
    left join attributed_per_send
        on attributed_per_send.campaign_id = sends.campaign_id
            and attributed_per_send.customer_id = sends.customer_id
),

funnel as (
    select
        campaign_id,
        segment_code,
        segment_as_of_date,
        sum(case when sent_at is not null then 1 else 0 end) as sent,
        {%- for name, flag in funnel %}
        sum(case when {{ flag }} then 1 else 0 end) as {{ name }},
        {%- endfor %}
        sum(attributed_purchases) as attributed_purchases,
        sum(attributed_revenue) as attributed_revenue
    from sends_with_segment
    group by campaign_id, segment_code, segment_as_of_date
)

select
    campaigns.campaign_id,
    campaigns.first_wave_campaign_id,
    campaigns.wave,
    campaigns.campaign_name,
    campaigns.scheduled_date,
    funnel.segment_as_of_date,
    funnel.segment_code,
    case funnel.segment_code
        when 'no_purchase' then 'No purchase in window'
        when 'unknown' then 'Unknown recipient'
        else segments.segment_name
    end as segment_name,
    case funnel.segment_code
        when 'no_purchase' then '기간 내 구매 없음'
        when 'unknown' then '미식별 수신자'
        else segments.segment_name_ko
    end as segment_name_ko,
    funnel.sent,
    {%- for name, flag in funnel %}
    funnel.{{ name }},
    {{ percent('funnel.' ~ name, 'funnel.sent') }} as {{ name }}_pct_of_sent,
    {%- endfor %}
    {{ percent('funnel.opened', 'funnel.delivered') }} as unique_open_rate_pct,
    {{ percent('funnel.clicked', 'funnel.opened') }} as click_to_open_pct,
    funnel.attributed_purchases,
    {{ money('funnel.attributed_revenue') }} as attributed_revenue,
    cast(
        round(cast(funnel.attributed_revenue as numeric) / nullif(funnel.sent, 0), 2)
        as {{ type_double() }}
    ) as revenue_per_send
from funnel
inner join campaigns on campaigns.campaign_id = funnel.campaign_id
left join segments on segments.segment_code = funnel.segment_code
