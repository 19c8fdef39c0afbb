{#- Column test: no value after the moment the build runs (an order dated tomorrow is a typo or
    a clock gone wrong). -#}
{% test not_in_future(model, column_name) %}
select {{ column_name }}
from {{ model }}
where cast({{ column_name }} as timestamp) > current_timestamp
{% endtest %}
