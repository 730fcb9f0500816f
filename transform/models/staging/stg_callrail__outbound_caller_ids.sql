with outbound_caller_ids as ({{ callrail_rows('outbound_caller_ids') }})

select
    id as outbound_caller_id,
    account_id,
    company_id,
    name as caller_id_name,
    phone_number,
    verified,
    {{ utc('created_at') }} as created_at
from outbound_caller_ids
