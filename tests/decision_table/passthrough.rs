//! Row: no `CallbackCommand`, or a command the layer does not take (the guard off):
//! passed to the inner service untouched.

use super::*;

#[tokio::test]
async fn requests_without_a_recall_command_pass_through_untouched() {
    let many = repeated("a=1", 10_000);
    let escaped = repeated("%FF=%", 10_000);
    let huge = padded_to_uri_max("x=1");
    let queries = [
        "SdkAppid=1400000000",
        "SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterSendMsg",
        "SdkAppid=1&CallbackCommand=State.StateChange&Sign=x",
        "CallbackCommand=Group.CallbackAfterRecallMsgX",
        "CallbackCommand=C2C.CallbackAfterMsgWithdraw",
        "CallbackCommand=C2C.CallbackBeforeMsgWithDraw",
        "CallbackCommand=OfficialAccount.CallbackAfterMsgWithDraw%20",
        // Raw UTF-8, which `http::Uri` accepts in a query (not other bytes above 0x7F).
        "name=🍕&CallbackCommand=Group.CallbackAfterSendMsg",
        // No parameter, or nothing that parses as one.
        "",
        "&&&",
        "=",
        "==&=",
        "%",
        "%%%",
        "%zz=%g",
        "%FF%FE=%C3",
        "a&b&c",
        // Without `=` the value is empty, which is not the recall command.
        "CallbackCommand",
        "CallbackCommand=",
        "SdkAppid=1400000000&CallbackCommand",
        // Names and values are case-sensitive.
        "callbackcommand=Group.CallbackAfterRecallMsg",
        "CallbackCommand=group.callbackafterrecallmsg",
        // `;` is not a separator: the value runs on to the next `&`.
        "CallbackCommand=Group.CallbackAfterRecallMsg;SdkAppid=1400000000",
        "SdkAppid=1400000000;CallbackCommand=Group.CallbackAfterRecallMsg",
        // An invalid escape is kept as it is, so the value is not the command.
        "CallbackCommand=Group%2XCallbackAfterRecallMsg",
        "CallbackCommand=Group.CallbackAfterRecallMsg%",
        // Decoded bytes that are not UTF-8 are replaced, never matched.
        "CallbackCommand=Group.CallbackAfterRecallMsg%FF",
        "CallbackCommand%FF=Group.CallbackAfterRecallMsg",
        "CallbackCommand=Group.CallbackAfter+RecallMsg",
        "x=Group.CallbackAfterRecallMsg",
        &many,
        &escaped,
        &huge,
    ];
    let uris = ["/", CALLBACK_PATH, "/im/callback?"].map(str::to_owned);
    let uris = uris.into_iter().chain(
        queries
            .iter()
            .map(|query| format!("{CALLBACK_PATH}?{query}")),
    );
    for uri in uris {
        for method in [Method::POST, Method::GET, Method::PUT] {
            passes_untouched(&layer(), method, &uri).await;
        }
    }
}

/// Sends `method` `uri` with a body that is no JSON, and checks that the inner service got
/// the request as it was sent, without an event or a verified context.
async fn passes_untouched(layer: &RecallLayer, method: Method, uri: &str) {
    let request = Request::builder()
        .method(method.clone())
        .uri(uri)
        .header("x-check", "kept")
        .body(full("not json at all"))
        .unwrap();
    let recorder = Recorder::default();
    let inner = recorder.clone();
    let sent = uri.to_owned();
    let checking = service_fn(move |request: Request<RequestBody<Full<Bytes>>>| {
        assert_eq!(request.uri(), sent.as_str());
        assert_eq!(request.headers()["x-check"], "kept");
        assert!(request.extensions().get::<RecallEvent>().is_none());
        assert!(request.extensions().get::<VerifiedCallback>().is_none());
        inner.clone().oneshot(request)
    });
    let response = layer.layer(checking).oneshot(request).await.unwrap();
    Answer::read(response).await.assert_inner();
    let seen = recorder.seen();
    assert_eq!(seen.calls, 1, "{method} {uri:.80}");
    assert_eq!(seen.body, "not json at all");
}

#[tokio::test]
async fn a_recall_the_layer_does_not_take_passes_through_untouched() {
    let layer = RecallLayer::builder()
        .unsigned_app(APP)
        .allow_unsigned_apps()
        .recalls([RecallKind::OneToOne, RecallKind::OfficialAccount])
        .build()
        .unwrap();
    for (method, query) in [
        (Method::GET, format!("SdkAppid=1&{COMMAND}")),
        (Method::POST, COMMAND.to_owned()),
    ] {
        passes_untouched(&layer, method, &format!("{CALLBACK_PATH}?{query}")).await;
    }
    // The kinds it takes, it takes.
    for (kind, query, body) in recalls().into_iter().skip(1) {
        assert_eq!(accept(&layer, &query, full(body)).await.kind(), kind);
    }
    // The first recall command it takes decides, wherever it is; a second is still refused.
    let query = format!("{}&{QUERY}", command_of(RecallKind::OneToOne));
    let reason = "CallbackCommand is repeated";
    refused_unread(&layer, &query, StatusCode::BAD_REQUEST, reason).await;
}

#[test]
fn a_passthrough_body_is_streamed_not_collected() {
    for query in [
        "CallbackCommand=Group.CallbackAfterSendMsg&SdkAppid=1",
        "a=b",
        "",
    ] {
        let extensions = streamed(&layer(), query);
        assert!(extensions.get::<RecallEvent>().is_none(), "{query}");
    }
}

#[tokio::test]
async fn passthrough_keeps_the_inner_response_untouched() {
    let inner = service_fn(|_request: Request<RequestBody<Full<Bytes>>>| async {
        let response = Response::builder()
            .status(StatusCode::IM_A_TEAPOT)
            .header("x-inner", "yes")
            .body(full("teapot"))
            .unwrap();
        Ok::<_, Infallible>(response)
    });
    let response = layer()
        .layer(inner)
        .oneshot(post("a=b", full("")))
        .await
        .unwrap();
    let answer = Answer::read(response).await;
    assert_eq!(answer.header("x-inner"), Some("yes"));
    assert_eq!(
        (answer.status, &answer.body[..]),
        (StatusCode::IM_A_TEAPOT, &b"teapot"[..])
    );
}
