with resolved as (
    select * from {{ ref('int_customers_resolved') }}
),

records as (
    select * from {{ ref('int_customer_records_unioned') }}
),

calls as (
    select * from {{ ref('stg_callcenter__calls') }}
),

esp_events as (
    select * from {{ ref('stg_esp__events') }}
),

guest_orders as (
    select * from {{ ref('stg_shop__orders') }}
    where is_guest_order
),

match_rules as (
    select * from {{ ref('identity_match_rules') }}
),

customer_records as (
    select resolved.customer_id, records.*
    from records
    inner join resolved on resolved.record_id = records.record_id
),

customer_phones as (
    select customer_id, mobile_e164 as phone_e164, name_key
    from customer_records
    where mobile_e164 is not null
    union
    select customer_id, home_phone_e164 as phone_e164, name_key
    from customer_records
    where home_phone_e164 is not null
    union
    select customer_id, work_phone_e164 as phone_e164, name_key
    from customer_records
    where work_phone_e164 is not null
),

call_candidates as (
    select
        calls.call_id,
        customer_phones.customer_id,
        max(case when calls.customer_name_match_key = customer_phones.name_key then 1 else 0 end)
            as name_agrees
    from calls
    inner join customer_phones on customer_phones.phone_e164 = calls.caller_e164
    group by calls.call_id, customer_phones.customer_id
),

call_matches as (
    select
        call_id,
        count(*) as candidate_customers,
        sum(name_agrees) as name_agreeing_customers,
        min(customer_id) as only_customer,
        min(case when name_agrees = 1 then customer_id end) as name_customer,
        max(name_agrees) as any_name_agrees
    from call_candidates
    group by call_id
),

-- 본인확인: when the caller number names nobody (or several customers the typed name does not
-- decide between), the name the agent typed and the birth date the caller gave (YYMMDD) tie
-- the call to the one customer with a record of that name and birth date.
customer_births as (
    select distinct
        customer_id,
        name_key,
        mod(cast(extract(year from birth_date) as integer), 100) * 10000
        + cast(extract(month from birth_date) as integer) * 100
        + cast(extract(day from birth_date) as integer) as birth_yymmdd
    from customer_records
    where birth_date is not null and name_key is not null
),

call_verified_matches as (
    select
        calls.call_id,
        count(distinct customer_births.customer_id) as candidate_customers,
        min(customer_births.customer_id) as only_customer
    from calls
    inner join customer_births
        on customer_births.name_key = calls.customer_name_match_key
            and customer_births.birth_yymmdd = cast(calls.verified_birth_yymmdd as integer)
    where calls.verified_birth_yymmdd is not null
    group by calls.call_id
),

call_rows as (
    select
        'callcenter_call' as source,
        calls.call_id as source_key,
        case
            when call_matches.candidate_customers = 1 then call_matches.only_customer
            when call_matches.name_agreeing_customers = 1 then call_matches.name_customer
            when verified.candidate_customers = 1 then verified.only_customer
        end as customer_id,
        case
            when call_matches.candidate_customers = 1 and call_matches.any_name_agrees = 1
                then 'caller_number_name'
            when call_matches.candidate_customers = 1 then 'caller_number'
            when call_matches.name_agreeing_customers = 1 then 'caller_number_name'
            when verified.candidate_customers = 1 then 'caller_name_birth'
            when call_matches.call_id is null then 'unmatched'
            else 'unmatched_ambiguous'
        end as match_rule
    from calls
    left join call_matches on call_matches.call_id = calls.call_id
    left join call_verified_matches as verified on verified.call_id = calls.call_id
),

-- The ESP sends to the addresses the shop and ERP gave it, valid or not: a recipient matches a
-- customer's address as delivered (email lower-cased, phone as national digits) or corrected.
recipients as (
    select distinct recipient_raw
    from esp_events
),

recipient_addresses as (
    select recipient_raw, {{ email_normalised('recipient_raw') }} as address
    from recipients
    union
    select recipient_raw, 'tel:' || {{ phone_national('recipient_raw') }} as address
    from recipients
    where recipient_raw not like '%@%'
),

customer_addresses as (
    select customer_id, email as address from customer_records
    where email is not null
    union
    select customer_id, email_key as address from customer_records
    where email_key is not null
    union
    select customer_id, 'tel:' || mobile_digits as address
    from customer_records
    where length(mobile_digits) >= 9
),

recipient_matches as (
    select
        recipients.recipient_raw,
        count(distinct customer_addresses.customer_id) as candidate_customers,
        min(customer_addresses.customer_id) as only_customer
    from recipient_addresses as recipients
    inner join customer_addresses on customer_addresses.address = recipients.address
    group by recipients.recipient_raw
),

recipient_rows as (
    select
        'esp_recipient' as source,
        recipients.recipient_raw as source_key,
        case
            when recipient_matches.candidate_customers = 1 then recipient_matches.only_customer
            -- Known to the ESP only: a customer of its own, named after the address.
            else {{ customer_id_from("'esp_recipient:' || recipients.recipient_raw") }}
        end as customer_id,
        case
            when recipient_matches.candidate_customers = 1 and recipients.recipient_raw like '%@%'
                then 'email'
            when recipient_matches.candidate_customers = 1 then 'sms_phone'
            else 'esp_only'
        end as match_rule
    from recipients
    left join recipient_matches on recipient_matches.recipient_raw = recipients.recipient_raw
),

guest_mobile_candidates as (
    select
        guest_orders.shop_order_id,
        customer_phones.customer_id,
        max(case when guest_orders.orderer_name_match_key = customer_phones.name_key then 1 else 0 end)
            as name_agrees
    from guest_orders
    inner join customer_phones on customer_phones.phone_e164 = guest_orders.orderer_mobile_e164
    where guest_orders.orderer_mobile_status = 'valid'
        and guest_orders.orderer_mobile_kind = 'mobile'
    group by guest_orders.shop_order_id, customer_phones.customer_id
),

guest_mobile_matches as (
    select
        shop_order_id,
        count(*) as candidate_customers,
        sum(name_agrees) as name_agreeing_customers,
        min(customer_id) as only_customer,
        min(case when name_agrees = 1 then customer_id end) as name_customer,
        max(name_agrees) as any_name_agrees
    from guest_mobile_candidates
    group by shop_order_id
),

guest_email_matches as (
    select
        guest_orders.shop_order_id,
        count(distinct customer_addresses.customer_id) as candidate_customers,
        min(customer_addresses.customer_id) as only_customer
    from guest_orders
    inner join customer_addresses
        on customer_addresses.address = coalesce(
                case when guest_orders.orderer_email_status = 'valid' then guest_orders.orderer_email end,
                guest_orders.orderer_email_suggested
            )
    group by guest_orders.shop_order_id
),

guest_rows as (
    select
        'shop_guest_order' as source,
        cast(guest_orders.shop_order_id as {{ dbt.type_string() }}) as source_key,
        case
            when mobile.candidate_customers = 1 then mobile.only_customer
            when mobile.name_agreeing_customers = 1 then mobile.name_customer
            when email.candidate_customers = 1 then email.only_customer
        end as customer_id,
        case
            when mobile.candidate_customers = 1 and mobile.any_name_agrees = 1
                then 'guest_mobile_name'
            when mobile.candidate_customers = 1 then 'guest_mobile'
            when mobile.name_agreeing_customers = 1 then 'guest_mobile_name'
            when email.candidate_customers = 1 then 'guest_email'
            else 'anonymous_guest'
        end as match_rule
    from guest_orders
    left join guest_mobile_matches as mobile on mobile.shop_order_id = guest_orders.shop_order_id
    left join guest_email_matches as email on email.shop_order_id = guest_orders.shop_order_id
),

unioned as (
    select source, source_key, customer_id, match_rule
    from resolved

    union all

    select source, source_key, customer_id, match_rule from call_rows

    union all

    select source, source_key, customer_id, match_rule from recipient_rows

    union all

    select source, source_key, customer_id, match_rule from guest_rows
)

select
    unioned.source,
    unioned.source_key,
    unioned.customer_id,
    unioned.match_rule,
    match_rules.confidence as match_confidence
from unioned
left join match_rules on match_rules.match_rule = unioned.match_rule
