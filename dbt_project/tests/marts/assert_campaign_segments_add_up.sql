{{ config(meta={'dagster': {'ref': {'name': 'mart_campaign_segment_kpis'}}}) }}
-- The per-segment campaign KPIs add up to each campaign's row: every recipient is in exactly
-- one segment at send time and every attributed order in exactly one segment.
with by_segment as (
    select
        campaign_id,
        sum(sent) as sent,
        sum(delivered) as delivered,
        sum(opened) as opened,
        sum(clicked) as clicked,
        sum(attributed_purchases) as attributed_purchases,
        sum(attributed_revenue) as attributed_revenue
    from {{ ref('mart_campaign_segment_kpis') }}
    group by campaign_id
),

by_campaign as (
    select * from {{ ref('mart_campaign_kpis') }}
)

select by_campaign.campaign_id
from by_campaign
left join by_segment on by_segment.campaign_id = by_campaign.campaign_id
where coalesce(by_segment.sent, -1) <> by_campaign.sent
    or by_segment.delivered <> by_campaign.delivered
    or by_segment.opened <> by_campaign.opened
    or by_segment.clicked <> by_campaign.clicked
    or by_segment.attributed_purchases <> by_campaign.attributed_purchases
    or by_segment.attributed_revenue <> by_campaign.attributed_revenue
