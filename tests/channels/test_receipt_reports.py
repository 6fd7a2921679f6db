"""SMS delivery receipts as Aliyun and Tencent push them, read into one shape."""

from leadpond.channels.receipt_reports import (
    ACKNOWLEDGEMENTS,
    Receipt,
    aliyun_receipts,
    tencent_receipts,
)


def test_aliyun_sms_report_push() -> None:
    pushed = [
        {
            "phone_number": "1381111****",
            "send_time": "2017-01-01 00:00:00",
            "report_time": "2017-01-01 00:00:05",
            "success": True,
            "err_code": "DELIVERED",
            "err_msg": "用户接收成功",
            "sms_size": "1",
            "biz_id": "12345^0",
            "out_id": "67890",
        },
        {"biz_id": "12346^0", "success": False, "err_code": "MK:0001", "err_msg": "空号"},
        {"success": True},  # no biz_id: cannot be matched
        "garbage",
    ]
    assert aliyun_receipts(pushed) == [
        Receipt(
            "12345^0",
            True,
            {
                "err_code": "DELIVERED",
                "err_msg": "用户接收成功",
                "report_time": "2017-01-01 00:00:05",
                "out_id": "67890",
                "sms_size": "1",
            },
        ),
        Receipt("12346^0", False, {"err_code": "MK:0001", "err_msg": "空号"}),
    ]


def test_tencent_status_callback() -> None:
    pushed = [
        {
            "user_receive_time": "2015-10-17 08:03:04",
            "nationcode": "86",
            "mobile": "13xxxxxxxxx",
            "report_status": "SUCCESS",
            "errmsg": "DELIVRD",
            "description": "用户短信送达成功",
            "sid": "2433:1",
        },
        {"report_status": "FAIL", "errmsg": "MK:0005", "sid": "2433:2"},
    ]
    receipts = tencent_receipts(pushed)
    assert [(r.provider_id, r.delivered) for r in receipts] == [("2433:1", True), ("2433:2", False)]
    assert receipts[0].detail["errmsg"] == "DELIVRD"
    assert "mobile" not in receipts[0].detail


def test_each_provider_gets_the_answer_it_expects() -> None:
    assert ACKNOWLEDGEMENTS["aliyun"] == {"code": 0, "msg": "接收成功"}
    assert ACKNOWLEDGEMENTS["tencent"] == {"result": 0, "errmsg": "OK"}
