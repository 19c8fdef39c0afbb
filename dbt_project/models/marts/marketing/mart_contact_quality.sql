{{ config(
    materialized='incremental',
    unique_key=['snapshot_date', 'source', 'channel'],
    incremental_strategy='delete+insert',
) }}
{%- set erp_channels = ['address', 'home_phone', 'work_phone', 'fax', 'mobile', 'email'] -%}
{%- set shop_channels = ['address', 'mobile', 'email'] -%}

with erp_customers as (
    select * from {{ ref('stg_erp__customers') }}
),

shop_members as (
    select * from {{ ref('stg_shop__members') }}
),

golden as (
    select * from {{ ref('int_customers_golden') }}
),

statuses as (
    {%- for channel in erp_channels %}
    select 'erp_customer' as source, '{{ channel }}' as channel, {{ channel }}_status as status
    from erp_customers
    union all
    {%- endfor %}
    {%- for channel in shop_channels %}
    select 'shop_member' as source, '{{ channel }}' as channel, {{ channel }}_status as status
    from shop_members
    union all
    {%- endfor %}
    {%- for channel in erp_channels %}
    select
        'golden_record' as source,
        '{{ channel }}' as channel,
        case when has_valid_{{ channel }} then 'valid'
            when {{ channel }}_status = 'missing' then 'missing'
            else {{ channel }}_status
        end as status
    from golden
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

counted as (
    select
        source,
        channel,
        count(*) as records,
        sum(case when status <> 'missing' then 1 else 0 end) as present,
        sum(case when status = 'valid' then 1 else 0 end) as valid,
        sum(case when status = 'invalid' then 1 else 0 end) as invalid,
        sum(case when status = 'suppressed' then 1 else 0 end) as suppressed
    from statuses
    group by source, channel
)

select
    current_date as snapshot_date,
    source,
    channel,
    records,
    present,
    valid,
    invalid,
    suppressed,
    {{ percent('present', 'records') }} as completeness_pct,
    {{ percent('valid', 'present') }} as validity_pct,
    {{ percent('valid', 'records') }} as usable_pct
from counted
