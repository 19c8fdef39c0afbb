with customers as (
    select * from {{ ref('int_customers_golden') }}
),

rfm as (
    select * from {{ ref('mart_customer_rfm') }}
),

valuable as (
    select
        customer_id,
        segment_code,
        monetary,
        m_score,
        case segment_code
            when 'champions' then 1
            when 'loyal' then 2
            when 'at_risk' then 3
            else 4
        end as value_priority
    from rfm
    where segment_code in ('champions', 'loyal', 'at_risk') or m_score = 5
),

to_fix as (
    select
        customers.customer_id,
        customers.name as customer_name,
        valuable.segment_code,
        valuable.monetary,
        valuable.value_priority,
        customers.mobile,
        customers.mobile_status,
        customers.home_phone,
        customers.home_phone_status,
        customers.email,
        customers.email_status,
        customers.address,
        customers.address_status,
        trim(concat_ws(
            ' ',
            case when customers.mobile_status <> 'valid' then 'mobile:' || customers.mobile_status end,
            case when customers.email_status <> 'valid' then 'email:' || customers.email_status end,
            case when customers.address_status <> 'valid' then 'address:' || customers.address_status end
        )) as to_repair,
        -- the number to call: a valid mobile, else a valid home phone
        case when customers.mobile_status = 'valid' then customers.mobile
            when customers.home_phone_status = 'valid' then customers.home_phone end
            as number_to_call
    from customers
    inner join valuable on valuable.customer_id = customers.customer_id
    where customers.sms_consent <> 'refused'
        and (
            customers.mobile_status <> 'valid'
            or customers.email_status <> 'valid'
            or customers.address_status <> 'valid'
        )
)

select
    customer_id,
    customer_name,
    segment_code,
    monetary,
    row_number() over (order by value_priority, monetary desc, customer_id) as priority,
    to_repair,
    number_to_call,
    mobile,
    mobile_status,
    email,
    email_status,
    address,
    address_status
from to_fix
