-- Reserved: number 0009 belongs to the `writes` branch (the audit log absorbing
-- upstream_writes). This placeholder only keeps the numbers gapless on the `core`
-- branch; delete it when that branch's 0009 lands.
SELECT 1;
