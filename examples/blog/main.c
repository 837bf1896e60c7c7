/*
 * main.c — the blog's command: every kura command over its models
 * (`blog migrate`, `blog serve`, `blog rows post --where published=true`, ...).
 */
#include "blog.h"

int main(int argc, char **argv)
{
    kura_program program = {.name = "blog", .setup = blog_setup, .mount = blog_mount};
    return kura_main(argc, argv, &program);
}
