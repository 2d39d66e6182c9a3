// kumo's runtime client for Java functions (java11, java17, java21 ...), compiled by kumo on first use.
//
// It speaks the Lambda Runtime API at $AWS_LAMBDA_RUNTIME_API like any custom runtime, and calls handlers as
// AWS's Java runtime does: "package.Class::method" (or "package.Class", method handleRequest), static or on an
// instance made once, taking (InputStream, OutputStream, Context), (input, Context) or (input). The input is
// the event converted to the parameter's type (String, Map, List, numbers, booleans, or a bean filled through
// its setters or fields); the result is written as JSON. The Context passed is a proxy of whatever
// com.amazonaws.services.lambda.runtime.Context the function's own jars define, so no AWS library is needed
// here. Errors are {errorMessage, errorType, stackTrace}, as AWS reports them.
//
// It has no dependencies: JSON is read and written by the small codec below.

import java.io.*;
import java.lang.reflect.*;
import java.net.*;
import java.nio.charset.StandardCharsets;
import java.util.*;

public final class KumoJavaRuntime {
    static String api;
    static String requestId = "";

    public static void main(String[] args) throws Exception {
        api = "http://" + System.getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime";
        Target target;
        try {
            target = load(System.getenv("_HANDLER"));
        } catch (Throwable t) {
            Throwable cause = (t instanceof InvocationTargetException && t.getCause() != null) ? t.getCause() : t;
            String doc = errorDoc(cause);
            System.out.println("ERROR " + doc);
            post("/init/error", doc.getBytes(StandardCharsets.UTF_8), cause.getClass().getName());
            System.exit(1);
            return;
        }
        while (true) {
            HttpURLConnection next = (HttpURLConnection) new URL(api + "/invocation/next").openConnection();
            next.setReadTimeout(0);
            byte[] event = next.getInputStream().readAllBytes();
            requestId = next.getHeaderField("Lambda-Runtime-Aws-Request-Id");
            long deadline = Long.parseLong(Optional.ofNullable(next.getHeaderField("Lambda-Runtime-Deadline-Ms")).orElse("0"));
            String arn = next.getHeaderField("Lambda-Runtime-Invoked-Function-Arn");
            String trace = next.getHeaderField("Lambda-Runtime-Trace-Id");
            if (trace != null) System.setProperty("com.amazonaws.xray.traceHeader", trace);
            byte[] out;
            try {
                out = target.invoke(event, requestId, deadline, arn);
            } catch (Throwable t) {
                Throwable cause = (t instanceof InvocationTargetException && t.getCause() != null) ? t.getCause() : t;
                String doc = errorDoc(cause);
                System.out.println(doc);
                post("/invocation/" + requestId + "/error", doc.getBytes(StandardCharsets.UTF_8), cause.getClass().getName());
                continue;
            }
            post("/invocation/" + requestId + "/response", out, null);
        }
    }

    static void post(String path, byte[] body, String errorType) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL(api + path).openConnection();
        c.setRequestMethod("POST");
        c.setDoOutput(true);
        c.setFixedLengthStreamingMode(body.length);
        if (errorType != null) c.setRequestProperty("Lambda-Runtime-Function-Error-Type", errorType);
        try (OutputStream o = c.getOutputStream()) { o.write(body); }
        c.getInputStream().readAllBytes();
    }

    static String errorDoc(Throwable t) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("errorMessage", t.getMessage() == null ? t.toString() : t.getMessage());
        doc.put("errorType", t.getClass().getName());
        List<Object> trace = new ArrayList<>();
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().equals(KumoJavaRuntime.class.getName()) || e.getClassName().startsWith("java.lang.reflect")
                || e.getClassName().startsWith("jdk.internal.reflect")) continue;
            trace.add(e.toString());
        }
        doc.put("stackTrace", trace);
        if (t.getCause() != null && t.getCause() != t) {
            doc.put("cause", Json.parse(errorDoc(t.getCause())));
        }
        return Json.write(doc);
    }

    // -- the handler -----------------------------------------------------------------------------------
    static final class Target {
        final Object instance;
        final Method method;
        Target(Object instance, Method method) { this.instance = instance; this.method = method; }

        byte[] invoke(byte[] event, String id, long deadline, String arn) throws Throwable {
            Class<?>[] types = method.getParameterTypes();
            Object[] args = new Object[types.length];
            ByteArrayOutputStream sink = null;
            for (int i = 0; i < types.length; i++) {
                Class<?> t = types[i];
                if (t == InputStream.class) args[i] = new ByteArrayInputStream(event);
                else if (t == OutputStream.class) args[i] = sink = new ByteArrayOutputStream();
                else if (t.isInterface() && t.getName().endsWith(".Context")) args[i] = context(t, id, deadline, arn);
                else args[i] = Json.convert(Json.parse(new String(event, StandardCharsets.UTF_8)), method.getGenericParameterTypes()[i]);
            }
            Object result = method.invoke(instance, args);
            if (sink != null) return sink.toByteArray();
            return Json.write(result).getBytes(StandardCharsets.UTF_8);
        }
    }

    static Target load(String handler) throws Exception {
        if (handler == null || handler.isEmpty()) throw new ClassNotFoundException("No handler was configured");
        String cls = handler, name = "handleRequest";
        int sep = handler.indexOf("::");
        if (sep >= 0) { cls = handler.substring(0, sep); name = handler.substring(sep + 2); }
        Class<?> type;
        try {
            type = Class.forName(cls, true, KumoJavaRuntime.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new ClassNotFoundException("Class not found: " + cls, e);
        }
        Method best = null;
        for (Method m : type.getMethods()) {
            if (!m.getName().equals(name) || m.isBridge() || m.getParameterCount() > 3 || m.getParameterCount() == 0) continue;
            if (best == null || rank(m) > rank(best)) best = m;
        }
        if (best == null) throw new NoSuchMethodException("No public method named " + name + " with appropriate method signature found on class " + cls);
        Object instance = Modifier.isStatic(best.getModifiers()) ? null : type.getDeclaredConstructor().newInstance();
        return new Target(instance, best);
    }

    static int rank(Method m) {
        Class<?>[] p = m.getParameterTypes();
        if (p.length == 3 && p[0] == InputStream.class && p[1] == OutputStream.class) return 30;
        int score = p.length * 10;
        if (p.length > 0 && p[0] == Object.class) score -= 1;  // prefer the typed overload over the erased one
        return score;
    }

    static Object context(Class<?> iface, String id, long deadline, String arn) {
        ClassLoader loader = iface.getClassLoader();
        return java.lang.reflect.Proxy.newProxyInstance(loader, new Class<?>[]{iface}, (proxy, m, a) -> {
            switch (m.getName()) {
                case "getAwsRequestId": return id;
                case "getLogGroupName": return System.getenv("AWS_LAMBDA_LOG_GROUP_NAME");
                case "getLogStreamName": return System.getenv("AWS_LAMBDA_LOG_STREAM_NAME");
                case "getFunctionName": return System.getenv("AWS_LAMBDA_FUNCTION_NAME");
                case "getFunctionVersion": return System.getenv("AWS_LAMBDA_FUNCTION_VERSION");
                case "getInvokedFunctionArn": return arn;
                case "getRemainingTimeInMillis": return (int) Math.max(0, deadline - System.currentTimeMillis());
                case "getMemoryLimitInMB": return Integer.parseInt(System.getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"));
                case "getLogger":
                    Class<?> loggerType = m.getReturnType();
                    return java.lang.reflect.Proxy.newProxyInstance(loggerType.getClassLoader(), new Class<?>[]{loggerType}, (p2, lm, la) -> {
                        if (lm.getName().equals("log") && la != null && la.length > 0) {
                            Object v = la[0];
                            System.out.println(v instanceof byte[] ? new String((byte[]) v, StandardCharsets.UTF_8) : String.valueOf(v));
                        }
                        return null;
                    });
                case "toString": return "LambdaContext(" + id + ")";
                case "hashCode": return System.identityHashCode(proxy);
                case "equals": return proxy == a[0];
                default: return null;
            }
        });
    }

    // -- JSON ------------------------------------------------------------------------------------------
    static final class Json {
        final String s;
        int i;
        Json(String s) { this.s = s; }

        static Object parse(String text) {
            Json j = new Json(text.trim());
            if (j.s.isEmpty()) return null;
            Object v = j.value();
            return v;
        }

        Object value() {
            ws();
            char c = s.charAt(i);
            if (c == '{') {
                Map<String, Object> m = new LinkedHashMap<>();
                i++; ws();
                if (s.charAt(i) == '}') { i++; return m; }
                while (true) {
                    ws(); String k = string(); ws(); i++; // ':'
                    m.put(k, value()); ws();
                    if (s.charAt(i++) == '}') return m;
                }
            }
            if (c == '[') {
                List<Object> l = new ArrayList<>();
                i++; ws();
                if (s.charAt(i) == ']') { i++; return l; }
                while (true) {
                    l.add(value()); ws();
                    if (s.charAt(i++) == ']') return l;
                }
            }
            if (c == '"') return string();
            if (s.startsWith("true", i)) { i += 4; return Boolean.TRUE; }
            if (s.startsWith("false", i)) { i += 5; return Boolean.FALSE; }
            if (s.startsWith("null", i)) { i += 4; return null; }
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
            String num = s.substring(start, i);
            if (num.contains(".") || num.contains("e") || num.contains("E")) return Double.parseDouble(num);
            long l = Long.parseLong(num);
            return (l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) ? (Object) (int) l : (Object) l;
        }

        String string() {
            StringBuilder b = new StringBuilder();
            i++; // opening quote
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') return b.toString();
                if (c != '\\') { b.append(c); continue; }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n': b.append('\n'); break;
                    case 't': b.append('\t'); break;
                    case 'r': b.append('\r'); break;
                    case 'b': b.append('\b'); break;
                    case 'f': b.append('\f'); break;
                    case 'u': b.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
                    default: b.append(e);
                }
            }
        }

        void ws() { while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++; }

        static String write(Object v) {
            StringBuilder b = new StringBuilder();
            write(b, v);
            return b.toString();
        }

        static void write(StringBuilder b, Object v) {
            if (v == null) { b.append("null"); return; }
            if (v instanceof String || v instanceof Character || v instanceof Enum) { quote(b, v.toString()); return; }
            if (v instanceof Number || v instanceof Boolean) { b.append(v); return; }
            if (v instanceof Map) {
                b.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                    if (!first) b.append(',');
                    first = false;
                    quote(b, String.valueOf(e.getKey())); b.append(':'); write(b, e.getValue());
                }
                b.append('}');
                return;
            }
            if (v instanceof Iterable || v.getClass().isArray()) {
                b.append('[');
                boolean first = true;
                Iterable<?> items = v instanceof Iterable ? (Iterable<?>) v : arrayList(v);
                for (Object o : items) {
                    if (!first) b.append(',');
                    first = false;
                    write(b, o);
                }
                b.append(']');
                return;
            }
            Map<String, Object> bean = new LinkedHashMap<>();
            for (Method m : v.getClass().getMethods()) {
                if (m.getParameterCount() != 0 || m.getDeclaringClass() == Object.class) continue;
                String n = m.getName();
                String prop = n.startsWith("get") && n.length() > 3 ? n.substring(3)
                    : n.startsWith("is") && n.length() > 2 && m.getReturnType() == boolean.class ? n.substring(2) : null;
                if (prop == null) continue;
                try { bean.put(Character.toLowerCase(prop.charAt(0)) + prop.substring(1), m.invoke(v)); }
                catch (ReflectiveOperationException ignored) { }
            }
            for (Field f : v.getClass().getFields()) {
                if (Modifier.isStatic(f.getModifiers())) continue;
                try { bean.putIfAbsent(f.getName(), f.get(v)); } catch (IllegalAccessException ignored) { }
            }
            write(b, bean);
        }

        static List<Object> arrayList(Object array) {
            List<Object> out = new ArrayList<>();
            for (int k = 0; k < Array.getLength(array); k++) out.add(Array.get(array, k));
            return out;
        }

        static void quote(StringBuilder b, String s) {
            b.append('"');
            for (int k = 0; k < s.length(); k++) {
                char c = s.charAt(k);
                switch (c) {
                    case '"': b.append("\\\""); break;
                    case '\\': b.append("\\\\"); break;
                    case '\n': b.append("\\n"); break;
                    case '\r': b.append("\\r"); break;
                    case '\t': b.append("\\t"); break;
                    default:
                        if (c < 0x20) b.append(String.format("\\u%04x", (int) c)); else b.append(c);
                }
            }
            b.append('"');
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        static Object convert(Object v, Type type) throws Exception {
            Class<?> raw = type instanceof Class ? (Class<?>) type
                : type instanceof ParameterizedType ? (Class<?>) ((ParameterizedType) type).getRawType() : Object.class;
            if (v == null) return null;
            if (raw == Object.class) return v;
            if (raw == String.class) return v instanceof String ? v : write(v);
            if (raw == Integer.class || raw == int.class) return ((Number) v).intValue();
            if (raw == Long.class || raw == long.class) return ((Number) v).longValue();
            if (raw == Double.class || raw == double.class) return ((Number) v).doubleValue();
            if (raw == Boolean.class || raw == boolean.class) return v;
            if (Map.class.isAssignableFrom(raw)) return v;
            if (List.class.isAssignableFrom(raw) || Collection.class.isAssignableFrom(raw)) return v;
            if (!(v instanceof Map)) throw new IllegalArgumentException("Cannot convert the event to " + raw.getName());
            Object bean = raw.getDeclaredConstructor().newInstance();
            for (Map.Entry<String, Object> e : ((Map<String, Object>) v).entrySet()) {
                String key = e.getKey();
                if (key.isEmpty()) continue;
                String setter = "set" + Character.toUpperCase(key.charAt(0)) + key.substring(1);
                boolean done = false;
                for (Method m : raw.getMethods()) {
                    if (m.getName().equals(setter) && m.getParameterCount() == 1) {
                        m.invoke(bean, convert(e.getValue(), m.getGenericParameterTypes()[0]));
                        done = true;
                        break;
                    }
                }
                if (!done) {
                    try {
                        Field f = raw.getField(key);
                        f.set(bean, convert(e.getValue(), f.getGenericType()));
                    } catch (NoSuchFieldException ignored) { }
                }
            }
            return bean;
        }
    }
}
