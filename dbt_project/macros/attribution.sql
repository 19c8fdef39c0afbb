{#- CTEs attributing purchases to campaign sends; the last CTE, attributed_purchases, holds one
    row per attributed purchase: purchase_key, merchandise_value, campaign_id, customer_id.
    Rule: a purchase (fct_purchases: a customer's purchase day, at the time of its first
    purchase order) within var('attribution_days') after a customer's first open or click of a
    send belongs to the send with the latest such touch before it, so each purchase is
    attributed to at most one send. `sends` and `purchases` are CTE or relation names
    (fct_campaign_sends and fct_purchases). -#}
{% macro campaign_attribution_ctes(sends, purchases) -%}
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
        {{ purchases }}.purchase_key,
        {{ purchases }}.merchandise_value,
        attribution_touches.campaign_id,
        attribution_touches.customer_id,
        row_number() over (
            partition by {{ purchases }}.purchase_key
            order by attribution_touches.touched_at desc, attribution_touches.campaign_id
        ) as touch_rank
    from {{ purchases }}
    inner join attribution_touches
        on attribution_touches.customer_id = {{ purchases }}.customer_id
        and {{ purchases }}.first_ordered_at > attribution_touches.touched_at
        and {{ purchases }}.first_ordered_at <= attribution_touches.touched_at
            + interval '{{ var("attribution_days") }} days'
    where {{ purchases }}.is_purchase
),

attributed_purchases as (
    select purchase_key, merchandise_value, campaign_id, customer_id
    from attribution_candidates
    where touch_rank = 1
)
{%- endmacro %}

{#- The CRM practice's e-mail funnel: (column name in the marts, flag in fct_campaign_sends). -#}
{% macro campaign_funnel() -%}
    {{ return([('delivered', 'is_delivered'), ('spam_blocked', 'is_spam_blocked'),
               ('bad_address', 'is_hard_bounce'), ('failed', 'is_failed'),
               ('soft_bounced', 'is_soft_bounce'), ('opened', 'is_open'),
               ('clicked', 'is_click'), ('unsubscribed', 'is_unsubscribe'),
               ('complained', 'is_complaint')]) }}
{%- endmacro %}
