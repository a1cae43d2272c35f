-- Reserved: number 0011 belongs to another branch (core, writes, facedb). This placeholder
-- only keeps the numbers gapless on the `review` branch; delete it when that
-- branch's 0011 lands.
SELECT 1;
