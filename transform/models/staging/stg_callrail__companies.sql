with companies as ({{ callrail_rows('companies') }})

select
    id as company_id,
    account_id,
    name as company_name,
    status,
    time_zone,
    {{ utc('created_at') }} as created_at,
    {{ utc('disabled_at') }} as disabled_at,
    dni_active,
    script_url,
    callscore_enabled,
    lead_scoring_enabled,
    callscribe_enabled,
    form_capture,
    swap_ppc_override,
    swap_landing_override,
    swap_cookie_duration,
    swap_cookie_duration_unit,
    to_jsonb(verified_caller_ids) as verified_caller_ids
from companies
