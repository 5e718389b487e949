# frozen_string_literal: true

require_relative "typed_attrs/version"
require_relative "typed_attrs/coercions"

# Declarative, type-checked attributes:
#
#   class Server
#     include TypedAttrs
#     typed_attr :host, String
#     typed_attr :port, Integer, default: 443
#     delegate_to :@options, :timeout, :retries
#   end
module TypedAttrs
  NAME = /\A[a-z_][a-zA-Z0-9_]*\z/.freeze

  class TypeError < ::TypeError; end

  def self.included(base)
    base.extend(ClassMethods)
  end

  module ClassMethods
    def typed_attributes
      @typed_attributes ||= (superclass.respond_to?(:typed_attributes) ? superclass.typed_attributes.dup : {})
    end

    def typed_attr(name, type, default: nil, coerce: true)
      name = name.to_s
      raise ArgumentError, "invalid attribute name #{name.inspect}" unless NAME.match?(name)

      typed_attributes[name.to_sym] = { type: type, default: default, coerce: coerce }
      # Plain methods are faster than define_method closures, which is why
      # Rails builds these from strings too.
      class_eval <<~RUBY, __FILE__, __LINE__ + 1
        def #{name}
          return @#{name} if defined?(@#{name})
          default = self.class.typed_attributes[:#{name}][:default]
          default.respond_to?(:call) ? default.call : default
        end

        def #{name}=(value)
          @#{name} = TypedAttrs::Coercions.check(self.class.typed_attributes[:#{name}], :#{name}, value)
        end

        def #{name}?
          !!#{name}
        end
      RUBY
    end

    # Forwards methods to an instance variable or method.
    def delegate_to(target, *methods)
      methods.each do |m|
        define_method(m) do |*args, **kwargs, &block|
          receiver = target.to_s.start_with?("@") ? instance_variable_get(target) : public_send(target)
          receiver.public_send(m, *args, **kwargs, &block)
        end
      end
    end
  end

  def initialize(**attrs)
    attrs.each do |key, value|
      raise ArgumentError, "unknown attribute #{key}" unless self.class.typed_attributes.key?(key.to_sym)

      public_send("#{key}=", value)
    end
    super()
  end

  def attributes
    self.class.typed_attributes.keys.to_h { |k| [k, public_send(k)] }
  end
end
