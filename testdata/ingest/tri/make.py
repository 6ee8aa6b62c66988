#!/usr/bin/env python3
"""Writes the `tri` fixture: one customer seen by e-mail on the web shop, by phone in a GBK store
export and by buyer id on a marketplace, linked by a CRM; plus one dirty row per reject reason.
Run from this folder; the files are committed, this only documents how they were made."""
import json

open("crm.csv", "w", encoding="utf-8", newline="").write(
    "customer_id,email,mobile,buyer_id,name,birthday,city,level\n"
    "C1, Ann@Example.com ,+86 138-0013-8000,tb_1,张三,1990-05-01,上海,gold\n"
    "C2,bob@example.com,13900139000,,李四,1985-13-01,北京,silver\n"
    "C3,carol@example.com,0086 13700137000,tb_3,王五,,深圳,\n"
    ",,,,nobody,,,\n"
)
open("web.csv", "w", encoding="utf-8-sig", newline="").write(
    "order,email,when,sku,qty,price,discount\n"
    'W1,ann@example.com,2024-03-01 10:00:00,A,2,"¥1,000.50",0.5\n'
    "W2,CAROL@example.com,03/02/2024 11:00,B,1,$20,\n"
    "W3,dave@example.com,2024-03-03T12:00:00,C,1,30,\n"
    "W3,dave@example.com,2024-03-03T12:00:00,C,1,30,\n"
    "W4,,2024-03-04 10:00:00,A,1,10,\n"
    "W5,ann@example.com,not a date,A,1,10,\n"
    "W6,ann@example.com,2024-03-05 10:00:00,A,x,10,\n"
    "W7,ann@example.com,2024-03-05 10:00:00,A,1,—,\n"
    "W8,ann@example.com,2024-03-05 10:00:00,A,1,,\n"
    "W9,ann@example.com,2024-03-06 10:00:00,A,-1,100,\n"
    ",ann@example.com,2024-03-06 11:00:00,A,1,100,\n"
)
open("store.csv", "w", encoding="gbk", newline="").write(
    "小票号,会员手机,交易时间,金额\r\n"
    'S1,138 0013 8000,2024/03/01 09:30,"1,200.00"\r\n'
    "S2,8613700137000,2024/03/02 09:30,￥88\r\n"
    "S3,15000000000,2024/03/03 10:00,(50.00)\r\n"
    "S4,13700137000,1989/12/31 23:59,10\r\n"
    "S5,13700137000,2024/03/04 10:00,元\r\n"
)
rows = [
    {"buyer": "tb_1", "order": "M1", "paid_at": 1709251200000, "qty": 1, "cents": 12345},
    {"buyer": "tb_3", "order": "M2", "paid_at": 1709308799000, "qty": 1, "cents": 100},
    {"buyer": "tb_3", "order": "M3", "paid_at": 1709308800000, "qty": 1, "cents": 200},
    {"buyer": "tb_9", "order": "M4", "paid_at": 1709308800000, "qty": -1, "cents": -300},
    {"buyer": "tb_9", "order": "M5", "paid_at": 4102444800000, "qty": 1, "cents": 100},
]
with open("market.ndjson", "w", encoding="utf-8") as f:
    for r in rows:
        f.write(json.dumps(r) + "\n")
