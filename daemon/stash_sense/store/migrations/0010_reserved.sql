-- Reserved: number 0010 belongs to another branch (core, writes, facedb). This placeholder
-- only keeps the numbers gapless on the `review` branch; delete it when that
-- branch's 0010 lands.
SELECT 1;
