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

match_rules as (
    select * from {{ ref('identity_match_rules') }}
),

linking_rules as (
    select
        match_keys.record_id,
        min(match_rules.strength) as rule_strength
    from match_keys
    inner join shared_keys on shared_keys.match_key = match_keys.match_key
    inner join match_rules on match_rules.match_rule = match_keys.match_rule
    group by match_keys.record_id
),

record_rules as (
    select
        linking_rules.record_id,
        match_rules.match_rule
    from linking_rules
    inner join match_rules on match_rules.strength = linking_rules.rule_strength
)

select
    records.record_id,
    records.source,
    records.source_key,
    {{ customer_id_from('anchors.anchor_record_id') }} as customer_id,
    anchors.anchor_record_id,
    coalesce(record_rules.match_rule, 'single_record') as match_rule,
    match_rules.confidence as match_confidence
from records
inner join components on components.record_id = records.record_id
inner join anchors on anchors.anchor_rank = components.component_anchor_rank
left join record_rules on record_rules.record_id = records.record_id
inner join match_rules
    on match_rules.match_rule = coalesce(record_rules.match_rule, 'single_record')
