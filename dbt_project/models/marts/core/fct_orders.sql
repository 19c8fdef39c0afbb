{%- set unseen_sale_return = "coalesce(return_match_rule = 'unallocated', false)" %}
with documents as (
    select * from {{ ref('int_order_documents') }}
),

lines as (
    select * from {{ ref('fct_order_lines') }}
),

crosswalk as (
    select * from {{ ref('int_identity_crosswalk') }}
),

held_lines as (
    select order_key, cast(count(*) as bigint) as held_line_count
    from {{ ref('int_order_line_exceptions') }}
    group by order_key
),

line_totals as (
    select
        order_key,
        cast(count(*) as bigint) as line_count,
        sum(gross_amount) as gross_amount,
        sum(cancelled_amount) as cancelled_amount,
        sum(booked_amount) as booked_amount,
        sum(returned_amount) as returned_amount,
        sum(net_amount) as net_amount,
        {%- for line_type in ['merchandise', 'shipping', 'fee', 'discount', 'adjustment', 'donation'] %}
        sum(case when line_type = '{{ line_type }}' then net_amount else 0 end)
            as {{ line_type }}_net_amount,
        {%- endfor %}
        sum(case when line_type = 'merchandise' then booked_amount else 0 end)
            as merchandise_booked_amount,
        sum(net_margin) as net_margin,
        sum(case when line_type = 'merchandise' and not {{ unseen_sale_return }}
                then net_amount
            else 0
        end) as customer_value_amount,
        sum(case when not {{ unseen_sale_return }} then net_margin end) as customer_value_margin
    from lines
    group by order_key
)

select
    documents.order_key,
    documents.source,
    documents.source_order_id,
    documents.document_type,
    documents.order_status,
    crosswalk.customer_id,
    documents.customer_source_key,
    documents.customer_source = 'shop_guest_order' as is_guest_order,
    documents.order_date,
    documents.ordered_at,
    documents.channel_code,
    documents.original_order_key,
    documents.document_amount,
    coalesce(line_totals.line_count, 0) as line_count,
    coalesce(held_lines.held_line_count, 0) as held_line_count,
    {%- for column in ['gross_amount', 'cancelled_amount', 'booked_amount', 'returned_amount',
                       'net_amount', 'merchandise_booked_amount', 'merchandise_net_amount',
                       'shipping_net_amount', 'fee_net_amount', 'discount_net_amount',
                       'adjustment_net_amount', 'donation_net_amount', 'net_margin',
                       'customer_value_amount', 'customer_value_margin'] %}
    cast(coalesce(line_totals.{{ column }}, 0) as {{ amount_type() }}) as {{ column }}{{ "," if not loop.last }}  -- noqa: LT02
{%- endfor %}
from documents
left join line_totals on line_totals.order_key = documents.order_key
left join held_lines on held_lines.order_key = documents.order_key
left join crosswalk
    on crosswalk.source = documents.customer_source
        and crosswalk.source_key = documents.customer_source_key
