/* protocol.c: JSON 1.1 and Query request bodies, and reply parsing. */
#include "config.h"

#include <openssl/crypto.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "json_each.h"
#include "sigv4.h"
#include "common/json_field.h"

static struct aws_call *call_new(const struct aws_service *s,
				 const char *action)
{
	struct aws_call *call = xcalloc(1, sizeof(*call));

	call->service = s;
	call->action = xstrdup(action);
	strbuf_init(&call->body);
	return call;
}

struct aws_call *aws_call_json(const struct aws_service *s,
			       const char *action, json_t *input)
{
	struct aws_call *call = call_new(s, action);
	char *text = json_dumps(input ? input : json_object(),
				JSON_COMPACT | JSON_SORT_KEYS);

	strbuf_puts(&call->body, text ? text : "{}");
	free(text);
	json_decref(input);
	return call;
}

struct aws_call *aws_call_json_text(const struct aws_service *s,
				    const char *action, const char *text,
				    size_t len)
{
	struct aws_call *call = call_new(s, action);

	strbuf_append(&call->body, text, len);
	return call;
}

struct aws_call *aws_call_query(const struct aws_service *s,
				const char *action)
{
	struct aws_call *call = call_new(s, action);

	aws_call_param(call, "Action", action);
	aws_call_param(call, "Version", s->api_version);
	return call;
}

void aws_call_param(struct aws_call *call, const char *key, const char *value)
{
	if (call->body.len)
		strbuf_putc(&call->body, '&');
	sigv4_uri_encode(&call->body, key, strlen(key), false);
	strbuf_putc(&call->body, '=');
	sigv4_uri_encode(&call->body, value, strlen(value), false);
}

static void set_text(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* Error documents: <ErrorResponse><Error> (STS, IAM),
 * <Response><Errors><Error> (EC2), <ErrorResponse><Errors><Error>. */
static void parse_xml_error(struct aws_call *call, const char *body,
			    size_t len)
{
	char err[128];
	struct xml_node *root = xml_parse(body, len, err, sizeof(err));
	const struct xml_node *e;

	if (!root)
		return;
	e = xml_child(root, "Error");
	if (!e)
		e = xml_path(root, "Errors/Error");
	if (e) {
		set_text(call->code, sizeof(call->code), xml_path_text(e, "Code"));
		set_text(call->message, sizeof(call->message),
			 xml_path_text(e, "Message"));
	}
	if (!call->request_id[0]) {
		const char *id = xml_path_text(root, "RequestId");

		if (!id)
			id = xml_path_text(root, "RequestID");
		set_text(call->request_id, sizeof(call->request_id), id);
	}
	xml_free(root);
}

static void parse_json_reply(struct aws_call *call, long status,
			     const char *body, size_t len)
{
	json_error_t jerr;
	json_t *doc;

	if (status >= 200 && status < 300 && call->each) {
		char err[256];

		if (json_each_reply(body, len, call->each, &call->json, err,
				    sizeof(err)) < 0) {
			call->status = AWS_CALL_BAD_REPLY;
			snprintf(call->message, sizeof(call->message), "%s", err);
			return;
		}
		call->status = AWS_CALL_OK;
		return;
	}
	doc = len ? json_loadb(body, len, 0, &jerr) : json_object();
	if (status >= 200 && status < 300) {
		if (!doc || !json_is_object(doc)) {
			call->status = AWS_CALL_BAD_REPLY;
			snprintf(call->message, sizeof(call->message),
				 "reply is not a JSON object");
			json_decref(doc);
			return;
		}
		call->status = AWS_CALL_OK;
		call->json = doc;
		return;
	}
	call->status = AWS_CALL_SERVICE_ERROR;
	if (!doc && len > 0 && body[0] == '<') {
		/* An XML error in front of a JSON service (an IAM layer, a
		 * proxy): read it rather than report a bare status. */
		parse_xml_error(call, body, len);
		return;
	}
	if (doc && json_is_object(doc)) {
		const char *type = json_field(doc, "__type");
		const char *msg = json_field(doc, "message");
		const char *hash;

		if (!msg)
			msg = json_field(doc, "Message");
		/* "com.amazonaws.ssm#ParameterNotFound" -> ParameterNotFound */
		if (type && (hash = strrchr(type, '#')))
			type = hash + 1;
		set_text(call->code, sizeof(call->code), type);
		set_text(call->message, sizeof(call->message), msg);
	}
	json_decref(doc);
}

static void parse_query_reply(struct aws_call *call, long status,
			      const char *body, size_t len)
{
	char err[128];
	struct xml_node *root;

	if (status >= 200 && status < 300 && call->xml_each)
		root = xml_parse_each(body, len, call->xml_each, err, sizeof(err));
	else
		root = xml_parse(body, len, err, sizeof(err));
	if (status >= 200 && status < 300) {
		if (!root) {
			call->status = AWS_CALL_BAD_REPLY;
			set_text(call->message, sizeof(call->message), err);
			return;
		}
		call->status = AWS_CALL_OK;
		call->xml = root;
		if (!call->request_id[0]) {
			const char *id = xml_path_text(root, "ResponseMetadata/RequestId");

			if (!id)
				id = xml_path_text(root, "requestId");
			set_text(call->request_id, sizeof(call->request_id), id);
		}
		return;
	}
	call->status = AWS_CALL_SERVICE_ERROR;
	xml_free(root);
	parse_xml_error(call, body, len);
}

void aws_parse_reply(struct aws_call *call, long http_status,
		     const char *body, size_t len)
{
	json_decref(call->json);
	call->json = NULL;
	xml_free(call->xml);
	call->xml = NULL;
	call->code[0] = '\0';
	call->message[0] = '\0';
	call->http_status = http_status;
	if (call->service->protocol == AWS_PROTOCOL_JSON)
		parse_json_reply(call, http_status, body ? body : "", len);
	else
		parse_query_reply(call, http_status, body ? body : "", len);
	if (call->status == AWS_CALL_SERVICE_ERROR && !call->code[0])
		snprintf(call->code, sizeof(call->code), "HTTP%ld", http_status);
}

void aws_call_free(struct aws_call *call)
{
	if (!call)
		return;
	free(call->action);
	/* A request may carry a secret (a one-time password). */
	if (call->body.data)
		OPENSSL_cleanse(call->body.data, call->body.len);
	strbuf_free(&call->body);
	json_decref(call->json);
	xml_free(call->xml);
	http_request_free(call->http);
	free(call);
}

void aws_call_error(const struct aws_call *call, char *buf, size_t len)
{
	const char *what;

	switch (call->status) {
	case AWS_CALL_OK:
		snprintf(buf, len, "%s %s: ok", call->service->signing_name,
			 call->action);
		return;
	case AWS_CALL_SERVICE_ERROR:
		snprintf(buf, len, "%s %s: %s%s%s%s%s%s",
			 call->service->signing_name, call->action, call->code,
			 call->message[0] ? ": " : "", call->message,
			 call->request_id[0] ? " (request " : "",
			 call->request_id, call->request_id[0] ? ")" : "");
		return;
	case AWS_CALL_TRANSPORT_ERROR:
		what = "no answer";
		break;
	case AWS_CALL_BAD_REPLY:
		what = "unreadable reply";
		break;
	case AWS_CALL_NO_CREDENTIALS:
		what = "no credentials";
		break;
	case AWS_CALL_DEADLINE:
		what = "deadline reached";
		break;
	case AWS_CALL_HELD:
		what = "not sent";
		break;
	default:
		what = "not run";
		break;
	}
	snprintf(buf, len, "%s %s: %s%s%s", call->service->signing_name,
		 call->action, what, call->message[0] ? ": " : "",
		 call->message);
}
