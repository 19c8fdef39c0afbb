-- The two views of revenue agree in total: booked (each return on its own date) and net
-- (each return moved to the sale it reverses). A return tied to a sale moves money between
-- lines, it never creates or loses any.
select booked, net
from (
    select sum(booked_amount) as booked, sum(net_amount) as net
    from {{ ref('fct_order_lines') }}
) as totals
where booked <> net
