/*
 * lint_checks.c - refuses test scripts whose `check` assertions cannot all fail.
 *
 * The shell tests count an assertion only when it goes through `check`
 * (tests/integration/lib.sh).  Two ways of writing one look right and are not:
 *
 *   check "what" [ a ] && [ b ]     the second condition runs after check,
 *                                   uncounted: the test passes when b is false
 *   check "what" cmd | grep -q x    the pipeline's last command decides, and
 *                                   check runs in a subshell whose count is lost
 *
 * This is a small lexer of bash: it follows quotes, $(...), ${...}, $((...)),
 * backquotes, comments, line continuations and here-documents well enough to
 * see the operators between simple commands, and reports a simple command
 * starting with `check` (after if, !, then, ...) that is piped, or followed
 * by && and anything but another check.  `check ... || action` is allowed.
 *
 * Usage: lint_checks FILE...   Prints one line per problem and a summary;
 * exits 0 when there is none, 1 otherwise, 2 when a file cannot be read.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64 /* nesting of quotes and substitutions */
#define WORD_MAX 32  /* the first word of a command is kept up to this length */

enum ctx {
    CTX_CMD,   /* command level: the file itself, or inside $( ) */
    CTX_DQ,    /* "..." */
    CTX_PARAM, /* ${...} */
    CTX_ARITH, /* $((...)) */
};

/* State of one command level. */
struct level {
    char first[WORD_MAX]; /* first word of the current simple command */
    size_t first_len;     /* its length so far */
    bool in_first;        /* reading the first word */
    bool have_first;      /* the first word is complete */
    bool at_word_start;   /* the next character starts a word */
    int check_line;       /* line of a `check` command being read, or 0 */
    int pending_line;     /* a `check ... &&` waits for its right-hand side, or 0 */
};

/* The lexer over one file. */
struct lexer {
    const char *path;         /* file name, for messages */
    const char *s;            /* its text */
    size_t len, i;            /* length, position */
    int line;                 /* current line, from 1 */
    enum ctx stack[MAX_DEPTH]; /* open contexts */
    struct level lv[MAX_DEPTH]; /* command state, for CTX_CMD entries */
    int depth;                /* entries in stack */
    int paren[MAX_DEPTH];     /* open parentheses or braces, per context */
    char heredoc[64];         /* delimiter of a pending here-document, or "" */
    int checks, problems;     /* counts */
};

static const char *const keywords[] = {"if", "then", "else", "elif", "do", "while", "until",
                                       "!", "{", "time", NULL};

static void level_reset(struct level *l)
{
    memset(l, 0, sizeof(*l));
    l->at_word_start = true;
}

static void push(struct lexer *x, enum ctx c)
{
    if (x->depth == MAX_DEPTH) {
        fprintf(stderr, "%s:%d: nesting too deep for lint_checks\n", x->path, x->line);
        exit(2);
    }
    x->stack[x->depth] = c;
    x->paren[x->depth] = 0;
    level_reset(&x->lv[x->depth]);
    x->depth++;
}

static void problem(struct lexer *x, int line, const char *what)
{
    printf("%s:%d: %s\n", x->path, line, what);
    x->problems++;
}

/* The first word of the current command is complete: judge it. */
static void end_first_word(struct lexer *x, struct level *l)
{
    l->in_first = false;
    l->first[l->first_len] = '\0';
    for (int k = 0; keywords[k]; k++)
        if (strcmp(l->first, keywords[k]) == 0) {
            l->first_len = 0; /* a keyword: the command starts after it */
            return;
        }
    l->have_first = true;
    if (strcmp(l->first, "check") == 0) {
        l->check_line = x->line;
        x->checks++;
        l->pending_line = 0;
    } else if (l->pending_line) {
        problem(x, l->pending_line,
                "`check ... && <not check>`: the condition after && is not counted");
        l->pending_line = 0;
    }
}

/* An operator (or the end of the text) ends the simple command at level 'l'. */
static void end_command(struct lexer *x, struct level *l, const char *op)
{
    if (l->in_first)
        end_first_word(x, l);
    if (l->check_line) {
        if (strcmp(op, "|") == 0 || strcmp(op, "|&") == 0)
            problem(x, l->check_line,
                    "`check ... | cmd`: piped, so the check runs in a lost subshell and cmd decides");
        else if (strcmp(op, "&&") == 0)
            l->pending_line = l->check_line;
    } else if (l->pending_line && !l->have_first && strcmp(op, "\n") != 0) {
        problem(x, l->pending_line, "`check ... &&` followed by nothing");
        l->pending_line = 0;
    }
    int pending = l->pending_line;
    level_reset(l);
    l->pending_line = pending;
}

/* Skip a here-document body: from the next line to the line equal to the delimiter. */
static void skip_heredoc(struct lexer *x)
{
    size_t dl = strlen(x->heredoc);
    while (x->i < x->len) {
        size_t start = x->i;
        while (x->i < x->len && x->s[x->i] != '\n')
            x->i++;
        size_t a = start;
        while (a < x->i && x->s[a] == '\t')
            a++;
        bool end = x->i - a == dl && memcmp(x->s + a, x->heredoc, dl) == 0;
        if (x->i < x->len) {
            x->i++;
            x->line++;
        }
        if (end)
            break;
    }
    x->heredoc[0] = '\0';
}

/* Read the delimiter word after << or <<- (quotes removed). */
static void read_heredoc_word(struct lexer *x)
{
    size_t n = 0;
    if (x->i < x->len && x->s[x->i] == '-')
        x->i++;
    while (x->i < x->len && (x->s[x->i] == ' ' || x->s[x->i] == '\t'))
        x->i++;
    while (x->i < x->len && !strchr(" \t\n;&|<>()", x->s[x->i])) {
        char c = x->s[x->i++];
        if (c != '\'' && c != '"' && c != '\\' && n + 1 < sizeof(x->heredoc))
            x->heredoc[n++] = c;
    }
    x->heredoc[n] = '\0';
}

/* Enter a $-expansion at x->i (pointing at '$'); true when one was entered. */
static bool dollar(struct lexer *x)
{
    if (x->i + 1 >= x->len)
        return false;
    char n = x->s[x->i + 1];
    if (n == '(' && x->i + 2 < x->len && x->s[x->i + 2] == '(') {
        x->i += 3;
        push(x, CTX_ARITH);
        return true;
    }
    if (n == '(') {
        x->i += 2;
        push(x, CTX_CMD);
        return true;
    }
    if (n == '{') {
        x->i += 2;
        push(x, CTX_PARAM);
        return true;
    }
    return false;
}

/* Skip '...' (x->i at the opening quote). */
static void single_quote(struct lexer *x)
{
    x->i++;
    while (x->i < x->len && x->s[x->i] != '\'') {
        if (x->s[x->i] == '\n')
            x->line++;
        x->i++;
    }
    x->i++;
}

/* Skip `...` (x->i at the opening backquote). */
static void backquote(struct lexer *x)
{
    x->i++;
    while (x->i < x->len && x->s[x->i] != '`') {
        if (x->s[x->i] == '\\')
            x->i++;
        else if (x->s[x->i] == '\n')
            x->line++;
        x->i++;
    }
    x->i++;
}

/* One step at command level. */
static void step_cmd(struct lexer *x)
{
    struct level *l = &x->lv[x->depth - 1];
    char c = x->s[x->i], n = x->i + 1 < x->len ? x->s[x->i + 1] : '\0';
    static const char *const ops[] = {"&&", "||", "|&", ";;", "|", ";", "&", NULL};

    if (c == '#' && l->at_word_start) {
        while (x->i < x->len && x->s[x->i] != '\n')
            x->i++;
        return;
    }
    if (c == '\\') {
        if (n == '\n')
            x->line++;
        x->i += 2;
        l->at_word_start = false;
        return;
    }
    if (c == '\n') {
        /* A line ending in && || | continues the list; otherwise it ends the command. */
        end_command(x, l, "\n");
        x->line++;
        x->i++;
        if (x->heredoc[0])
            skip_heredoc(x);
        return;
    }
    if (c == ' ' || c == '\t') {
        if (l->in_first)
            end_first_word(x, l);
        l->at_word_start = true;
        x->i++;
        return;
    }
    if (c == ')' && x->depth > 1) {
        end_command(x, l, ")");
        x->depth--;
        x->i++;
        return;
    }
    if (c == '(' || c == ')') {
        end_command(x, l, "(");
        x->i++;
        return;
    }
    char prev = x->i > 0 ? x->s[x->i - 1] : '\0';
    if (c == '<' && n == '<' && prev != '<' && (x->i + 2 >= x->len || x->s[x->i + 2] != '<')) {
        x->i += 2;
        read_heredoc_word(x);
        return;
    }
    bool redirect = c == '&' && (prev == '>' || prev == '<' || n == '>'); /* 2>&1, &>file */
    for (int k = 0; ops[k] && !redirect; k++) {
        size_t ol = strlen(ops[k]);
        if (x->i + ol <= x->len && memcmp(x->s + x->i, ops[k], ol) == 0) {
            end_command(x, l, ops[k]);
            x->i += ol;
            return;
        }
    }
    /* A word character (or the start of a quote or expansion inside a word). */
    if (l->at_word_start && !l->have_first && !l->in_first) {
        l->in_first = true;
        l->first_len = 0;
    }
    l->at_word_start = false;
    if (c == '\'') {
        if (l->in_first)
            end_first_word(x, l);
        single_quote(x);
        return;
    }
    if (c == '"') {
        if (l->in_first)
            end_first_word(x, l);
        x->i++;
        push(x, CTX_DQ);
        return;
    }
    if (c == '`') {
        backquote(x);
        return;
    }
    if (c == '$' && dollar(x)) {
        if (l->in_first)
            end_first_word(x, l);
        return;
    }
    if (l->in_first && l->first_len + 1 < WORD_MAX)
        l->first[l->first_len++] = c;
    x->i++;
}

/* One step inside "...", ${...} or $((...)). */
static void step_other(struct lexer *x)
{
    enum ctx top = x->stack[x->depth - 1];
    char c = x->s[x->i], n = x->i + 1 < x->len ? x->s[x->i + 1] : '\0';
    if (c == '\n')
        x->line++;
    if (c == '\\') {
        if (n == '\n')
            x->line++;
        x->i += 2;
        return;
    }
    if (c == '$' && dollar(x))
        return;
    if (c == '`') {
        backquote(x);
        return;
    }
    if (top == CTX_DQ) {
        x->i++;
        if (c == '"')
            x->depth--;
        return;
    }
    if (c == '"') {
        x->i++;
        push(x, CTX_DQ);
        return;
    }
    if (c == '\'' && top == CTX_PARAM) {
        single_quote(x);
        return;
    }
    char open = top == CTX_PARAM ? '{' : '(', close = top == CTX_PARAM ? '}' : ')';
    x->i++;
    if (c == open) {
        x->paren[x->depth - 1]++;
    } else if (c == close) {
        if (top == CTX_PARAM && x->paren[x->depth - 1] == 0)
            x->depth--;
        else if (top == CTX_ARITH && x->paren[x->depth - 1] == 0 && n == ')') {
            x->i++;
            x->depth--;
        } else {
            x->paren[x->depth - 1]--;
        }
    }
}

/* Lint one file; returns 0, or -1 when it cannot be read. */
static int lint_file(const char *path, int *checks, int *problems)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    static char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof(buf) - 1, f);
    bool too_big = !feof(f);
    fclose(f);
    if (too_big) {
        fprintf(stderr, "%s: larger than %zu bytes\n", path, sizeof(buf) - 1);
        return -1;
    }
    buf[len] = '\0';
    struct lexer x = {.path = path, .s = buf, .len = len, .line = 1};
    push(&x, CTX_CMD);
    while (x.i < x.len) {
        if (x.stack[x.depth - 1] == CTX_CMD)
            step_cmd(&x);
        else
            step_other(&x);
    }
    end_command(&x, &x.lv[0], "\n");
    if (x.lv[0].pending_line)
        problem(&x, x.lv[0].pending_line, "`check ... &&` at the end of the file");
    if (x.depth != 1)
        problem(&x, x.line, "unterminated quote or substitution (lint_checks lost track)");
    *checks += x.checks;
    *problems += x.problems;
    return 0;
}

int main(int argc, char **argv)
{
    int checks = 0, problems = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: lint_checks FILE...\n");
        return 2;
    }
    for (int a = 1; a < argc; a++)
        if (lint_file(argv[a], &checks, &problems) < 0)
            return 2;
    printf("lint_checks: %d file(s), %d check(s), %d problem(s)\n", argc - 1, checks, problems);
    return problems ? 1 : 0;
}
