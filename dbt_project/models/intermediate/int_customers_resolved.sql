{#- Connected components of the record–key graph by min-label propagation: each round a key
    takes the smallest label of its records and each record the smallest label of its keys.
    `identity_max_rounds` rounds cover any component whose records are at most that many hops
    apart; the singular test assert_identity_converged fails if a component needed more. -#}
{%- set rounds = var('identity_max_rounds', 8) -%}

-- One row per customer record (ERP customer, shop member) with the customer it belongs to.
with records as (
    select * from {{ ref('int_customer_records_unioned') }}
),

match_keys as (
    select * from {{ ref('int_customer_match_keys') }}
),

labels_0 as (
    select record_id, anchor_rank as label
    from records
),
{% for round in range(1, rounds + 1) %}
key_labels_{{ round }} as (
    select match_keys.match_key, min(labels_{{ round - 1 }}.label) as label
    from match_keys
    inner join labels_{{ round - 1 }} on labels_{{ round - 1 }}.record_id = match_keys.record_id
    group by match_keys.match_key
),

labels_{{ round }} as (
    select
        labels_{{ round - 1 }}.record_id,
        min(coalesce(key_labels_{{ round }}.label, labels_{{ round - 1 }}.label)) as label
    from labels_{{ round - 1 }}
    left join match_keys on match_keys.record_id = labels_{{ round - 1 }}.record_id
    left join key_labels_{{ round }} on key_labels_{{ round }}.match_key = match_keys.match_key
    group by labels_{{ round - 1 }}.record_id
),
{% endfor %}

components as (
    select record_id, label as component_anchor_rank
    from labels_{{ rounds }}
),

anchors as (
    select anchor_rank, record_id as anchor_record_id
    from records
),

-- The strongest rule that ties a record to another record of its component: its strongest
-- key that another record shares.
shared_keys as (
    select match_key
    from match_keys
    group by match_key
    having count(*) > 1
),

linking_rules as (
    select
        match_keys.record_id,
        min(case match_keys.match_rule
            when 'rrn' then 1 when 'mobile_name' then 2 when 'email' then 3
            when 'name_address' then 4 else 5 end)
            as rule_strength
    from match_keys
    inner join shared_keys on shared_keys.match_key = match_keys.match_key
    group by match_keys.record_id
)

select
    records.record_id,
    records.source,
    records.source_key,
    'C' || upper(substr({{ dbt.hash('anchors.anchor_record_id') }}, 1, 12)) as customer_id,
    anchors.anchor_record_id,
    case linking_rules.rule_strength
        when 1 then 'rrn'
        when 2 then 'mobile_name'
        when 3 then 'email'
        when 4 then 'name_address'
        when 5 then 'name_birth'
        else 'single_record'
    end as match_rule,
    case linking_rules.rule_strength
        when 1 then 1.00
        when 2 then 0.98
        when 3 then 0.95
        when 4 then 0.92
        when 5 then 0.90
        else 1.00
    end as match_confidence
from records
inner join components on components.record_id = records.record_id
inner join anchors on anchors.anchor_rank = components.component_anchor_rank
left join linking_rules on linking_rules.record_id = records.record_id
