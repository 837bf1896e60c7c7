/*
 * http_client.h — one HTTP request over libcurl for the service tests that run
 * a kura_http in-process: the status, the body and the header block, each
 * kept up to its buffer (a longer answer is cut, never overrun). A transport
 * failure fails the test. Include after <cmocka.h> and <curl/curl.h>.
 */
#ifndef KURA_TESTS_HTTP_CLIENT_H
#define KURA_TESTS_HTTP_CLIENT_H

#include <stdio.h>
#include <string.h>

typedef struct http_response {
    long status;
    char body[65536];
    size_t len;
    char headers[8192];
    size_t hlen;
} http_response;

typedef struct http_sink {
    char *buf;
    size_t size, len;
} http_sink;

static size_t http_on_data(char *p, size_t size, size_t n, void *ud)
{
    http_sink *s = ud;
    size_t k = size * n;
    if (s->len + k < s->size) {
        memcpy(s->buf + s->len, p, k);
        s->len += k;
        s->buf[s->len] = '\0';
    }
    return k;
}

/* `method` base+path; body NULL for none; type the Content-Type (NULL: none);
 * auth an Authorization value (NULL: none). */
static http_response http_call(const char *base, const char *method, const char *path,
                               const char *type, const char *body, const char *auth)
{
    http_response r = {0};
    http_sink out = {r.body, sizeof r.body, 0}, head = {r.headers, sizeof r.headers, 0};
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[512], line[256];
    snprintf(url, sizeof url, "%s%s", base, path);
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    if (type) {
        snprintf(line, sizeof line, "Content-Type: %s", type);
        h = curl_slist_append(h, line);
    }
    if (auth) {
        snprintf(line, sizeof line, "Authorization: %s", auth);
        h = curl_slist_append(h, line);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &head);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    r.len = out.len;
    r.hlen = head.len;
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

#endif
