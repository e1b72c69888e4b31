# Turns the migration files into a C array so the binary knows every schema
# version it can apply (and therefore refuses a newer database).
# Inputs: SQL_FILES (;-list, sorted), OUT (path of the .c file).
set(body "")
set(count 0)
foreach(f ${SQL_FILES})
  get_filename_component(name ${f} NAME)
  file(READ ${f} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND body "static const char sql_${count}[] = {${bytes}0x00};\n")
  list(APPEND entries "{\"${name}\", sql_${count}}")
  math(EXPR count "${count} + 1")
endforeach()
list(JOIN entries ",\n    " joined)
file(WRITE ${OUT}.tmp "/* Generated from schema/control by embed_schema.cmake. */\n#include \"db.h\"\n${body}\nconst db_migration db_migrations[] = {\n    ${joined}\n};\nconst int db_migration_count = ${count};\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
