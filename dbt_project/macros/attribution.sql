{#- CTEs attributing completed orders to campaign sends; the last CTE, attributed_orders, holds
    one row per attributed order: order_key, net_amount, campaign_id, customer_id.
    Rule: a completed order within var('attribution_days') after a customer's first open or
    click of a send belongs to the send with the latest such touch before the order, so each
    order is attributed to at most one send. `sends` and `orders` are CTE or relation names
    (fct_campaign_sends and fct_orders). -#}
{% macro campaign_attribution_ctes(sends, orders) -%}
attribution_touches as (
    select
        campaign_id,
        customer_id,
        case
            when first_click_at is not null
                and (first_open_at is null or first_click_at < first_open_at)
                then first_click_at
            else first_open_at
        end as touched_at
    from {{ sends }}
    where customer_id is not null
        and (first_open_at is not null or first_click_at is not null)
),

attribution_candidates as (
    select
        {{ orders }}.order_key,
        {{ orders }}.net_amount,
        attribution_touches.campaign_id,
        attribution_touches.customer_id,
        row_number() over (
            partition by {{ orders }}.order_key
            order by attribution_touches.touched_at desc, attribution_touches.campaign_id
        ) as touch_rank
    from {{ orders }}
    inner join attribution_touches
        on attribution_touches.customer_id = {{ orders }}.customer_id
        and {{ orders }}.ordered_at > attribution_touches.touched_at
        and {{ orders }}.ordered_at <= attribution_touches.touched_at
            + interval '{{ var("attribution_days") }} days'
    where {{ orders }}.is_purchase
),

attributed_orders as (
    select order_key, net_amount, campaign_id, customer_id
    from attribution_candidates
    where touch_rank = 1
)
{%- endmacro %}

{#- Seed 000's e-mail funnel: (column name in the marts, flag in fct_campaign_sends). -#}
{% macro campaign_funnel() -%}
    {{ return([('delivered', 'is_delivered'), ('spam_blocked', 'is_spam_blocked'),
               ('bad_address', 'is_hard_bounce'), ('failed', 'is_failed'),
               ('soft_bounced', 'is_soft_bounce'), ('opened', 'is_open'),
               ('clicked', 'is_click'), ('unsubscribed', 'is_unsubscribe'),
               ('complained', 'is_complaint')]) }}
{%- endmacro %}
