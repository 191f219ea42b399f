/* xml.c: strict XML parsing into a small element tree. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xml.h"
#include "common/xmalloc.h"

#define XML_MAX_DEPTH 64
#define XML_MAX_NAME 256

struct parser {
	const char *p;
	const char *end;
	char *err;
	size_t errlen;
	struct xml_each *each;	/* NULL: build the whole tree */
	bool call_fn;		/* second pass: hand items to each->fn */
};

static void parse_error(struct parser *ps, const char *why)
{
	if (!ps->err[0])
		snprintf(ps->err, ps->errlen, "malformed XML: %s", why);
}

static bool starts_with(struct parser *ps, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(ps->end - ps->p) >= n && memcmp(ps->p, s, n) == 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
	       c == ':' || (unsigned char)c >= 0x80;
}

static void skip_space(struct parser *ps)
{
	while (ps->p < ps->end && is_space(*ps->p))
		ps->p++;
}

/* Skip up to and past terminator; false if it never comes. */
static bool skip_past(struct parser *ps, const char *terminator)
{
	size_t n = strlen(terminator);

	while ((size_t)(ps->end - ps->p) >= n) {
		if (memcmp(ps->p, terminator, n) == 0) {
			ps->p += n;
			return true;
		}
		ps->p++;
	}
	return false;
}

static void append_utf8(struct strbuf *sb, unsigned long cp)
{
	char buf[4];

	if (cp < 0x80) {
		buf[0] = (char)cp;
		strbuf_append(sb, buf, 1);
	} else if (cp < 0x800) {
		buf[0] = (char)(0xc0 | (cp >> 6));
		buf[1] = (char)(0x80 | (cp & 0x3f));
		strbuf_append(sb, buf, 2);
	} else if (cp < 0x10000) {
		buf[0] = (char)(0xe0 | (cp >> 12));
		buf[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		buf[2] = (char)(0x80 | (cp & 0x3f));
		strbuf_append(sb, buf, 3);
	} else {
		buf[0] = (char)(0xf0 | (cp >> 18));
		buf[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		buf[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		buf[3] = (char)(0x80 | (cp & 0x3f));
		strbuf_append(sb, buf, 4);
	}
}

/* At '&': decode one entity reference into sb. */
static bool parse_entity(struct parser *ps, struct strbuf *sb)
{
	static const struct {
		const char *name;
		char c;
	} named[] = { { "lt;", '<' }, { "gt;", '>' }, { "amp;", '&' },
		      { "quot;", '"' }, { "apos;", '\'' } };
	size_t i;

	ps->p++;
	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		if (starts_with(ps, named[i].name)) {
			strbuf_putc(sb, named[i].c);
			ps->p += strlen(named[i].name);
			return true;
		}
	}
	if (ps->p < ps->end && *ps->p == '#') {
		unsigned long cp = 0;
		int base = 10, digits = 0;

		ps->p++;
		if (ps->p < ps->end && *ps->p == 'x') {
			base = 16;
			ps->p++;
		}
		while (ps->p < ps->end && *ps->p != ';') {
			char c = *ps->p;
			int v;

			if (c >= '0' && c <= '9')
				v = c - '0';
			else if (base == 16 && c >= 'a' && c <= 'f')
				v = c - 'a' + 10;
			else if (base == 16 && c >= 'A' && c <= 'F')
				v = c - 'A' + 10;
			else
				break;
			cp = cp * (unsigned long)base + (unsigned long)v;
			if (cp > 0x10ffff || ++digits > 8)
				break;
			ps->p++;
		}
		if (ps->p < ps->end && *ps->p == ';' && digits > 0 && cp > 0 &&
		    cp <= 0x10ffff) {
			ps->p++;
			append_utf8(sb, cp);
			return true;
		}
	}
	parse_error(ps, "bad entity reference");
	return false;
}

static char *parse_name(struct parser *ps)
{
	const char *start = ps->p, *colon;

	while (ps->p < ps->end && is_name_char(*ps->p))
		ps->p++;
	if (ps->p == start || ps->p - start > XML_MAX_NAME) {
		parse_error(ps, "bad element name");
		return NULL;
	}
	/* Drop a namespace prefix: <soap:Body> is Body to us. */
	colon = memchr(start, ':', (size_t)(ps->p - start));
	if (colon)
		start = colon + 1;
	return xstrndup(start, (size_t)(ps->p - start));
}

/* Skip attributes up to '>' or '/>'; true with *empty set on success. */
static bool skip_attributes(struct parser *ps, bool *empty)
{
	for (;;) {
		skip_space(ps);
		if (ps->p >= ps->end)
			break;
		if (*ps->p == '>') {
			ps->p++;
			*empty = false;
			return true;
		}
		if (starts_with(ps, "/>")) {
			ps->p += 2;
			*empty = true;
			return true;
		}
		while (ps->p < ps->end && is_name_char(*ps->p))
			ps->p++;
		skip_space(ps);
		if (ps->p >= ps->end || *ps->p != '=')
			break;
		ps->p++;
		skip_space(ps);
		if (ps->p >= ps->end || (*ps->p != '"' && *ps->p != '\''))
			break;
		{
			char quote = *ps->p++;
			const char *close = memchr(ps->p, quote,
						   (size_t)(ps->end - ps->p));

			if (!close)
				break;
			ps->p = close + 1;
		}
	}
	parse_error(ps, "bad attribute");
	return false;
}

static struct xml_node *parse_element(struct parser *ps, int depth,
				      const char *path);

/* One child element of the streamed element: to each->fn (second pass
 * only), then freed. */
static bool hand_over(struct parser *ps, struct xml_node *item)
{
	int rc = 0;

	if (ps->call_fn)
		rc = ps->each->fn(item, ps->each->arg);
	xml_free(item);
	if (rc != 0) {
		parse_error(ps, "an item was refused");
		return false;
	}
	return true;
}

/* Parse content until the matching end tag of node. path is what is left
 * of each->path below node: NULL when node is not on it, "" when node is
 * the element whose children are streamed. */
static bool parse_content(struct parser *ps, struct xml_node *node, int depth,
			  const char *path)
{
	struct strbuf text;
	struct xml_node **tail = &node->children;

	strbuf_init(&text);
	while (ps->p < ps->end) {
		if (starts_with(ps, "</")) {
			char *name;
			bool match;

			ps->p += 2;
			name = parse_name(ps);
			if (!name)
				goto fail;
			match = strcmp(name, node->name) == 0;
			free(name);
			skip_space(ps);
			if (!match || ps->p >= ps->end || *ps->p != '>') {
				parse_error(ps, "mismatched end tag");
				goto fail;
			}
			ps->p++;
			node->text = strbuf_detach(&text);
			return true;
		} else if (starts_with(ps, "<!--")) {
			if (!skip_past(ps, "-->")) {
				parse_error(ps, "unterminated comment");
				goto fail;
			}
		} else if (starts_with(ps, "<![CDATA[")) {
			const char *start = ps->p + 9;

			ps->p = start;
			if (!skip_past(ps, "]]>")) {
				parse_error(ps, "unterminated CDATA");
				goto fail;
			}
			strbuf_append(&text, start, (size_t)(ps->p - 3 - start));
		} else if (starts_with(ps, "<!")) {
			parse_error(ps, "declarations are not allowed");
			goto fail;
		} else if (starts_with(ps, "<?")) {
			if (!skip_past(ps, "?>")) {
				parse_error(ps, "unterminated processing instruction");
				goto fail;
			}
		} else if (*ps->p == '<') {
			struct xml_node *child =
				parse_element(ps, depth + 1, path && *path ? path : NULL);

			if (!child)
				goto fail;
			if (path && !*path) {
				if (!hand_over(ps, child))
					goto fail;
				continue;
			}
			*tail = child;
			tail = &child->next;
		} else if (*ps->p == '&') {
			if (!parse_entity(ps, &text))
				goto fail;
		} else {
			/* Character data up to the next markup, in one go. */
			const char *start = ps->p;

			while (ps->p < ps->end && *ps->p != '<' && *ps->p != '&')
				ps->p++;
			strbuf_append(&text, start, (size_t)(ps->p - start));
		}
	}
	parse_error(ps, "unexpected end of document");
fail:
	strbuf_free(&text);
	return false;
}

/* The rest of path below an element called name: NULL if path does not
 * lead through it. */
static const char *path_below(const char *path, const char *name)
{
	size_t n;

	if (!path)
		return NULL;
	n = strcspn(path, "/");
	if (strlen(name) != n || strncmp(path, name, n) != 0)
		return NULL;
	return path[n] == '/' ? path + n + 1 : path + n;
}

/* path: what is left of each->path at this element's parent (see
 * parse_content); for the root element, each->path itself, which is
 * below the root whatever its name. */
static struct xml_node *parse_element(struct parser *ps, int depth,
				      const char *path)
{
	struct xml_node *node;
	bool empty = false;

	if (depth > XML_MAX_DEPTH) {
		parse_error(ps, "nested too deeply");
		return NULL;
	}
	ps->p++;		/* '<' */
	node = xcalloc(1, sizeof(*node));
	node->name = parse_name(ps);
	if (!node->name || !skip_attributes(ps, &empty))
		goto fail;
	if (depth > 0)
		path = path_below(path, node->name);
	if (path && !*path)
		ps->each->found = true;
	if (empty) {
		node->text = xstrdup("");
		return node;
	}
	if (!parse_content(ps, node, depth, path))
		goto fail;
	return node;
fail:
	xml_free(node);
	return NULL;
}

static struct xml_node *parse_document(struct parser *ps_in, const char *path)
{
	struct parser ps = *ps_in;
	struct xml_node *root = NULL;

	/* A UTF-8 byte order mark is legal before the prolog. */
	if (starts_with(&ps, "\xef\xbb\xbf"))
		ps.p += 3;
	for (;;) {
		skip_space(&ps);
		if (starts_with(&ps, "<?")) {
			if (!skip_past(&ps, "?>"))
				goto fail;
		} else if (starts_with(&ps, "<!--")) {
			if (!skip_past(&ps, "-->"))
				goto fail;
		} else {
			break;
		}
	}
	if (ps.p >= ps.end || *ps.p != '<' || starts_with(&ps, "<!")) {
		parse_error(&ps, "no root element");
		goto fail;
	}
	root = parse_element(&ps, 0, path);
	if (!root)
		goto fail;
	skip_space(&ps);
	if (ps.p != ps.end) {
		parse_error(&ps, "content after the root element");
		goto fail;
	}
	return root;
fail:
	parse_error(&ps, "unterminated construct");
	xml_free(root);
	return NULL;
}

struct xml_node *xml_parse(const char *data, size_t len, char *err,
			   size_t errlen)
{
	struct parser ps = { data, data + len, err, errlen, NULL, false };

	err[0] = '\0';
	return parse_document(&ps, NULL);
}

struct xml_node *xml_parse_each(const char *data, size_t len,
				struct xml_each *each, char *err, size_t errlen)
{
	struct parser ps = { data, data + len, err, errlen, each, false };
	struct xml_node *root;

	err[0] = '\0';
	/* First the whole reply is checked, an item at a time: fn sees
	 * nothing of a reply that turns out malformed. */
	each->found = false;
	root = parse_document(&ps, each->path);
	if (root) {
		xml_free(root);
		each->found = false;
		ps.call_fn = true;
		root = parse_document(&ps, each->path);
	}
	return root;
}

void xml_free(struct xml_node *node)
{
	while (node) {
		struct xml_node *next = node->next;

		xml_free(node->children);
		free(node->name);
		free(node->text);
		free(node);
		node = next;
	}
}

const struct xml_node *xml_child(const struct xml_node *node,
				 const char *name)
{
	const struct xml_node *c;

	if (!node)
		return NULL;
	for (c = node->children; c; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const struct xml_node *xml_path(const struct xml_node *node, const char *path)
{
	char name[XML_MAX_NAME + 1];

	while (node && *path) {
		const char *slash = strchr(path, '/');
		size_t n = slash ? (size_t)(slash - path) : strlen(path);

		if (n > XML_MAX_NAME)
			return NULL;
		memcpy(name, path, n);
		name[n] = '\0';
		node = xml_child(node, name);
		path += n;
		if (*path == '/')
			path++;
	}
	return node;
}

const char *xml_path_text(const struct xml_node *node, const char *path)
{
	const struct xml_node *n = xml_path(node, path);

	return n ? n->text : NULL;
}
