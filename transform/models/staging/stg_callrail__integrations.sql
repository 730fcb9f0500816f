with integrations as ({{ callrail_rows('integrations') }})

select
    id as integration_id,
    account_id,
    company_id,
    type as integration_type,
    state,
    config
from integrations
