with leads as ({{ callrail_rows('leads') }})

select
    id as lead_id,
    account_id,
    company_id,
    company_name,
    name as lead_name,
    phone,
    email,
    {{ utc('created_at') }} as created_at
from leads
